package dev.tgpt.app;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Devices;
import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.UserError;
import picocli.CommandLine.Option;

/** --device, shared by every command that runs kernels. */
final class DeviceOption {

    /** The environment variable that lets a command run on tornado-jvm's emulator (JVM mode's device 0:0) all the same. */
    static final String ALLOW_EMULATOR = "TGPT_ALLOW_EMULATOR";

    @Option(names = "--device", paramLabel = "D", defaultValue = "auto",
            description = "jvm, N:M (a TornadoVM backend:device, see ./tgpt devices), a list N:M,N:M,... (under mpirun or srun, local rank r "
                    + "takes the r-th), or auto: the first TornadoVM GPU (under mpirun or srun, the local rank's), else jvm. Default: ${DEFAULT-VALUE}.")
    String device;

    /** The backend that backend() chose, for the launcher's messages about a device that failed; null before. */
    Backend selected;

    Backend backend() {
        Backend b = Devices.select(device);
        if (isEmulator(b) && !emulatorAllowed()) {
            throw new UserError("device " + b.info().id() + " is tornado-jvm's emulator of TornadoVM, for tests, about 1000 times slower than "
                    + "--device jvm (no TornadoVM SDK is set up); for a real device install one and `source tornado-env.sh SDK`, or set "
                    + ALLOW_EMULATOR + "=1 to use the emulator anyway");
        }
        selected = b;
        return b;
    }

    /** Whether a backend is tornado-jvm's emulated device: in JVM mode every TornadoVM device is. */
    static boolean isEmulator(Backend b) {
        return !(b instanceof JvmBackend) && !BuildMode.sdk();
    }

    /** TGPT_ALLOW_EMULATOR=1 in the environment, or the system property tgpt.allowEmulator=true (how tests in one JVM set it). */
    static boolean emulatorAllowed() {
        String env = System.getenv(ALLOW_EMULATOR);
        return "1".equals(env) || "true".equalsIgnoreCase(env) || Boolean.getBoolean("tgpt.allowEmulator");
    }
}
