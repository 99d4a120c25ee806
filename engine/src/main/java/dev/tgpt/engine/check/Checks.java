package dev.tgpt.engine.check;

import java.util.List;
import java.util.Random;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.Session;
import dev.tgpt.engine.Launch;
import dev.tgpt.engine.Program;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/** Helpers for op checks: random inputs, running launches on a backend, comparing with a reference. */
public final class Checks {

    private Checks() {
    }

    /** Uniform in [-scale, scale). */
    public static FloatArray random(Random r, int n, float scale) {
        FloatArray a = new FloatArray(n);
        for (int i = 0; i < n; i++) {
            a.set(i, (2 * r.nextFloat() - 1) * scale);
        }
        return a;
    }

    public static IntArray randomInts(Random r, int n, int bound) {
        IntArray a = new IntArray(n);
        for (int i = 0; i < n; i++) {
            a.set(i, r.nextInt(bound));
        }
        return a;
    }

    public static double[] toDouble(FloatArray a) {
        double[] d = new double[a.getSize()];
        for (int i = 0; i < d.length; i++) {
            d[i] = a.get(i);
        }
        return d;
    }

    /** Runs launches once on the backend: {@code in} copied to the device first, {@code out} copied back after. */
    public static void run(Backend backend, List<Launch> launches, Object[] in, Object[] out) {
        Program p = new Program("check").state(in).outputs(out);
        launches.forEach(p::add);
        try (Session s = backend.open(p)) {
            s.run(p);
        }
    }

    /** max |got − want| / max |want| (or the absolute error where want is all zero); NaN if any got is not finite. */
    public static double error(FloatArray got, double[] want) {
        if (got.getSize() != want.length) {
            throw new IllegalArgumentException("sizes differ: " + got.getSize() + " vs " + want.length);
        }
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < want.length; i++) {
            double g = got.get(i);
            if (!Double.isFinite(g)) {
                return Double.NaN;
            }
            maxDiff = Math.max(maxDiff, Math.abs(g - want[i]));
            maxRef = Math.max(maxRef, Math.abs(want[i]));
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }

    /** The worst of several errors; NaN if any is NaN. */
    public static double worst(double... errors) {
        double w = 0;
        for (double e : errors) {
            if (Double.isNaN(e)) {
                return Double.NaN;
            }
            w = Math.max(w, e);
        }
        return w;
    }
}
