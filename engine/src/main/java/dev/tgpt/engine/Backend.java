package dev.tgpt.engine;

/** Where kernels run: the JVM backend, or a TornadoVM device. */
public sealed interface Backend permits JvmBackend, TornadoVmBackend {

    DeviceInfo info();

    /**
     * Prepares programs to run here many times, sharing their state. TornadoVM compiles each kernel on its first run;
     * scalars and sizes are part of the compiled kernel, so a program is built once per shape.
     */
    Session open(Program... programs);
}
