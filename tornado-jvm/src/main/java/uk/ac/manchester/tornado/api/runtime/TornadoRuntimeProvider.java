package uk.ac.manchester.tornado.api.runtime;

import dev.tgpt.tornadojvm.JvmRuntime;
import uk.ac.manchester.tornado.api.TornadoRuntime;

/** Entry point to the runtime: here, the one backend of tornado-jvm. */
public class TornadoRuntimeProvider {

    private TornadoRuntimeProvider() {
    }

    public static TornadoRuntime getTornadoRuntime() {
        return JvmRuntime.INSTANCE;
    }
}
