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
     * The backend for a {@code --device} value: "jvm"; "N:M", TornadoVM's backend N, device M; a list "N:M,N:M,...",
     * one device per rank on a machine (started by mpirun or srun: the entry of this process's local rank); or "auto",
     * the first TornadoVM GPU (under mpirun or srun: the GPU of this process's local rank), else the JVM backend.
     */
    public static Backend select(String spec) {
        String s = spec == null ? "auto" : spec.trim().toLowerCase();
        if (s.equals("jvm")) {
            return new JvmBackend();
        }
        if (s.equals("auto")) {
            List<TornadoVmBackend> gpus = tornadoDevices().stream().filter(t -> t.info().type().equals("GPU")).toList();
            return gpus.isEmpty() ? new JvmBackend() : ofLocalRank(gpus, Ranks.launcherLocalRank());
        }
        if (s.contains(",")) {
            List<TornadoVmBackend> all = tornadoDevices();
            List<TornadoVmBackend> listed = new ArrayList<>();
            for (String one : s.split(",", -1)) {
                Matcher m = INDEX.matcher(one.strip());
                if (!m.matches()) {
                    throw new UserError("--device takes a list of TornadoVM devices N:M,N:M,... (one for each rank on a machine), not '" + spec + "'");
                }
                listed.add(device(all, m));
            }
            return ofLocalRank(listed, Ranks.launcherLocalRank());
        }
        Matcher m = INDEX.matcher(s);
        if (!m.matches()) {
            throw new UserError("--device takes jvm, auto, N:M or a list N:M,N:M,... (TornadoVM backend and device indices, as ./tgpt devices "
                    + "lists them), not '" + spec + "'");
        }
        return device(tornadoDevices(), m);
    }

    /** Several ranks on one machine: local rank r takes device r, modulo the devices there are (ranks may share one). */
    private static <T> T ofLocalRank(List<T> devices, int localRank) {
        return devices.get(localRank % devices.size());
    }

    /** The device that a match of {@link #INDEX} names (as numbers: "00:1" is 0:1). */
    private static TornadoVmBackend device(List<TornadoVmBackend> all, Matcher m) {
        String index = Integer.parseInt(m.group(1)) + ":" + Integer.parseInt(m.group(2));
        for (TornadoVmBackend t : all) {
            if (t.info().id().equals(index)) {
                return t;
            }
        }
        throw new UserError("no TornadoVM device " + index + " here; ./tgpt devices lists the devices this program can use");
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
