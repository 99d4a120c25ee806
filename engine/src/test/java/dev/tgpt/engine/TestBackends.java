package dev.tgpt.engine;

import java.util.stream.Stream;

/**
 * The backends every op test runs on: the JVM backend, and the TornadoVM device under test, named by the system
 * property tgpt.device (default 0:0). In JVM mode that is tornado-jvm's emulator; in SDK mode (the sdk profile) a
 * real device, with TornadoVM's bailout to Java turned off.
 */
public final class TestBackends {

    private static Backend device;

    private TestBackends() {
    }

    public static synchronized Backend device() {
        if (device == null) {
            device = Devices.select(System.getProperty("tgpt.device", "0:0"));
        }
        return device;
    }

    /** JVM mode: the device is tornado-jvm's emulator, about 1,000 times slower than the JVM backend. */
    public static boolean emulated() {
        try {
            Class.forName("dev.tgpt.tornadojvm.JvmRuntime");
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    public static Stream<Backend> all() {
        return Stream.of(new JvmBackend(), device());
    }
}
