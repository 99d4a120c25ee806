package dev.tgpt.app;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Devices;
import picocli.CommandLine.Option;

/** --device, shared by every command that runs kernels. */
final class DeviceOption {

    @Option(names = "--device", paramLabel = "D", defaultValue = "auto",
            description = "jvm, N:M (a TornadoVM backend:device, see ./tgpt devices), or auto: the first TornadoVM GPU, else jvm. Default: ${DEFAULT-VALUE}.")
    String device;

    Backend backend() {
        return Devices.select(device);
    }
}
