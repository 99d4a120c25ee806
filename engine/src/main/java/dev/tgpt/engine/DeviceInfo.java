package dev.tgpt.engine;

/**
 * A device the program can use, as {@code ./tgpt devices} lists it.
 *
 * @param id           what {@code --device} takes: "jvm", or TornadoVM's "backend:device"
 * @param backend      "jvm", or the TornadoVM backend (OpenCL, PTX, ...)
 * @param name         the device's name
 * @param type         CPU, GPU, ...
 * @param memoryBytes  global memory (the JVM: what its off-heap tensors may take, -XX:MaxDirectMemorySize)
 * @param maxAllocationBytes the largest one buffer may be (OpenCL's CL_DEVICE_MAX_MEM_ALLOC_SIZE; the JVM: one array
 *                     of 2³¹−1 floats)
 * @param computeUnits cores or compute units
 * @param simdFloats   floats per SIMD register on the JVM backend, 0 elsewhere
 */
public record DeviceInfo(String id, String backend, String name, String type, long memoryBytes, long maxAllocationBytes, int computeUnits, int simdFloats) {
}
