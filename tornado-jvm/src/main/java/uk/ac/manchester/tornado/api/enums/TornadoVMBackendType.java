package uk.ac.manchester.tornado.api.enums;

/** The backend a device belongs to. */
public enum TornadoVMBackendType {
    OPENCL,
    METAL,
    PTX,
    CUDA,
    SPIRV,
    JAVA,
    VIRTUAL
}
