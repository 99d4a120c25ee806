package dev.tgpt.kernels;

/** GRPO's KL penalty written plainly, in double precision: what {@link Grpo} is checked against. */
public final class GrpoReference {

    private GrpoReference() {
    }

    /** w·β·(e^d − d − 1), d = ref − logp, logp = −loss, of each position. */
    public static double[] klForward(double[] losses, double[] refLogp, double[] weights, double beta) {
        double[] kl = new double[losses.length];
        for (int n = 0; n < losses.length; n++) {
            if (weights[n] != 0) {
                double d = refLogp[n] + losses[n];
                kl[n] = weights[n] * beta * (Math.expm1(d) - d);
            }
        }
        return kl;
    }

    /** Adds the gradient of Σ kl with respect to losses to dlosses. */
    public static void klBackward(double[] losses, double[] refLogp, double[] weights, double beta, double[] dlosses) {
        for (int n = 0; n < losses.length; n++) {
            if (weights[n] != 0) {
                dlosses[n] += weights[n] * beta * Math.expm1(refLogp[n] + losses[n]);
            }
        }
    }
}
