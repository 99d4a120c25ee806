package dev.tgpt.app;

/** Which build this is: against a TornadoVM SDK, or with tornado-jvm on the plain JVM. */
final class BuildMode {

    private BuildMode() {
    }

    static boolean sdk() {
        try {
            Class.forName("dev.tgpt.tornadojvm.JvmRuntime");
            return false;
        } catch (ClassNotFoundException e) {
            return true;
        }
    }

    static String describe() {
        if (sdk()) {
            String v = System.getenv("TORNADOVM_VERSION");
            return "SDK mode: TornadoVM " + (v == null ? "(version unknown)" : v) + " at " + System.getenv("TORNADOVM_HOME");
        }
        return "JVM mode: no TornadoVM SDK; device 0:0 is tornado-jvm's emulator of TornadoVM's API (for tests, not speed)";
    }
}
