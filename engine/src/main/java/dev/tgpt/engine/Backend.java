package dev.tgpt.engine;

/** Where kernels run: the JVM backend, or a TornadoVM device. */
public sealed interface Backend permits JvmBackend, TornadoVmBackend {

    DeviceInfo info();

    /** Prepares a program to run here many times; TornadoVM compiles each kernel on the first run. */
    Compiled compile(Program program);
}
