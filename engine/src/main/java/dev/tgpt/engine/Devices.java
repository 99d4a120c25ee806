package dev.tgpt.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.tgpt.engine.dist.Ranks;

import uk.ac.manchester.tornado.api.TornadoBackend;
import uk.ac.manchester.tornado.api.TornadoRuntime;
import uk.ac.manchester.tornado.api.runtime.TornadoRuntimeProvider;

/** The devices this program can use, and the choice of one by {@code --device jvm | N:M | auto}. */
public final class Devices {

    private static final Pattern INDEX = Pattern.compile("(\\d+):(\\d+)");
    private static final Pattern ANSI = Pattern.compile("\u001B\\[[;\\d]*m");

    private Devices() {
    }

    /** The JVM backend first, then every TornadoVM device. */
    public static List<Backend> all() {
        List<Backend> all = new ArrayList<>();
        all.add(new JvmBackend());
        all.addAll(tornadoDevices());
        return all;
    }

    /**
     * The backend for a {@code --device} value: "jvm"; "N:M", TornadoVM's backend N, device M; or "auto", the first
     * TornadoVM GPU (started by mpirun or srun: the GPU of this process's local rank), else the JVM backend.
     */
    public static Backend select(String spec) {
        String s = spec == null ? "auto" : spec.trim().toLowerCase();
        if (s.equals("jvm")) {
            return new JvmBackend();
        }
        if (s.equals("auto")) {
            // several ranks on one machine (mpirun -np N): local rank r takes GPU r (mod the GPUs there are)
            List<TornadoVmBackend> gpus = tornadoDevices().stream().filter(t -> t.info().type().equals("GPU")).toList();
            return gpus.isEmpty() ? new JvmBackend() : gpus.get(Ranks.launcherLocalRank() % gpus.size());
        }
        Matcher m = INDEX.matcher(s);
        if (!m.matches()) {
            throw new UserError("--device takes jvm, auto or N:M (a TornadoVM backend and device index, as ./tgpt devices lists them), not '"
                    + spec + "'");
        }
        int b = Integer.parseInt(m.group(1));
        int d = Integer.parseInt(m.group(2));
        for (TornadoVmBackend t : tornadoDevices()) {
            if (t.info().id().equals(b + ":" + d)) {
                return t;
            }
        }
        throw new UserError("no TornadoVM device " + b + ":" + d + " here; ./tgpt devices lists the devices this program can use");
    }

    /** Every TornadoVM device, or none when the runtime cannot start; never a stack trace for a missing SDK. */
    public static List<TornadoVmBackend> tornadoDevices() {
        List<TornadoVmBackend> devices = new ArrayList<>();
        TornadoRuntime runtime = runtime();
        for (int b = 0; b < runtime.getNumBackends(); b++) {
            TornadoBackend backend = runtime.getBackend(b);
            for (int d = 0; d < backend.getNumDevices(); d++) {
                devices.add(new TornadoVmBackend(b, d, backend.getDevice(d), backend.getBackendType().name()));
            }
        }
        return devices;
    }

    private static TornadoRuntime runtime() {
        try {
            return TornadoRuntimeProvider.getTornadoRuntime();
        } catch (NoClassDefFoundError | ExceptionInInitializerError e) {
            throw new UserError("TornadoVM's runtime did not start (" + rootMessage(e) + "): check that its devices' drivers work, and run "
                    + "through ./tgpt after `source tornado-env.sh`", e);
        }
    }

    /** The innermost cause as "SimpleName: first line of its message", without the terminal colours TornadoVM adds. */
    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage() == null ? "" : ANSI.matcher(t.getMessage()).replaceAll("").strip();
        m = m.lines().findFirst().orElse("").strip();
        return m.isEmpty() ? t.getClass().getSimpleName() : t.getClass().getSimpleName() + ": " + m;
    }
}
