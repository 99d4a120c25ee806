package dev.tgpt.engine;

import java.util.function.ToDoubleFunction;

/** Central finite differences in double precision, to check a hand-written backward pass. */
public final class FiniteDifferences {

    private FiniteDifferences() {
    }

    /** d loss / d x, by (loss(x + h) − loss(x − h)) / 2h for each element; x is restored. */
    public static double[] gradient(double[] x, ToDoubleFunction<double[]> loss, double h) {
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double keep = x[i];
            x[i] = keep + h;
            double up = loss.applyAsDouble(x);
            x[i] = keep - h;
            double down = loss.applyAsDouble(x);
            x[i] = keep;
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }

    /** max |a − b| / max |b|. */
    public static double relativeError(double[] a, double[] b) {
        double diff = 0;
        double ref = 0;
        for (int i = 0; i < a.length; i++) {
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
            ref = Math.max(ref, Math.abs(b[i]));
        }
        return ref == 0 ? diff : diff / ref;
    }

    /** Σ dy·y: the loss whose gradient with respect to y is dy. */
    public static double dot(double[] dy, double[] y) {
        double s = 0;
        for (int i = 0; i < y.length; i++) {
            s += dy[i] * y[i];
        }
        return s;
    }

    public static double[] random(java.util.Random r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = 2 * r.nextDouble() - 1;
        }
        return a;
    }
}
