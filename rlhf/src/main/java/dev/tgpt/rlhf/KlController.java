package dev.tgpt.rlhf;

/**
 * The coefficient β of PPO's KL penalty against the reference (SFT) model: fixed, or adapted to hold the KL near a
 * target (Ziegler et al. 2019, section 2.2; TRL's FixedKLController and AdaptiveKLController).
 */
public sealed interface KlController {

    /** The coefficient for the next batch of rollouts. */
    float beta();

    /**
     * Takes the measured KL (nats per sequence, averaged over the batch) of a batch of {@code samples} rollouts.
     */
    void update(double kl, int samples);

    /** β never changes. */
    record Fixed(float beta) implements KlController {

        public Fixed {
            if (!(beta >= 0) || Float.isInfinite(beta)) {
                throw new IllegalArgumentException("the KL coefficient must be finite and not negative: " + beta);
            }
        }

        @Override
        public void update(double kl, int samples) {
        }
    }

    /**
     * Ziegler et al.'s proportional controller: e = clamp(KL / target − 1, −0.2, 0.2), β ← β·(1 + e·samples / horizon).
     * With the KL above target β grows, pulling the policy back; below it β shrinks. β is kept in double precision
     * between updates, as TRL's Python float is.
     */
    final class Adaptive implements KlController {

        private final double target;
        private final int horizon;
        private double beta;

        public Adaptive(float initial, float target, int horizon) {
            if (!(initial > 0) || Float.isInfinite(initial) || !(target > 0) || Float.isInfinite(target) || horizon <= 0) {
                throw new IllegalArgumentException("an adaptive KL controller needs a positive initial coefficient, target and horizon: "
                        + initial + ", " + target + ", " + horizon);
            }
            this.beta = initial;
            this.target = target;
            this.horizon = horizon;
        }

        @Override
        public float beta() {
            return (float) beta;
        }

        @Override
        public void update(double kl, int samples) {
            if (Double.isNaN(kl) || samples < 0) {
                throw new IllegalArgumentException("a KL of " + kl + " over " + samples + " samples");
            }
            double error = Math.clamp(kl / target - 1, -0.2, 0.2);
            beta *= 1 + error * samples / horizon;
        }

        public float target() {
            return (float) target;
        }

        public int horizon() {
            return horizon;
        }

        @Override
        public String toString() {
            return "Adaptive[beta=" + beta + ", target=" + target + ", horizon=" + horizon + "]";
        }
    }
}
