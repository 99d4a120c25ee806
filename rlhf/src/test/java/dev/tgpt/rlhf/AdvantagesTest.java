package dev.tgpt.rlhf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

class AdvantagesTest {

    /**
     * Against TRL's logic in PyTorch (src/test/resources/make_fixtures.py): float64 there, float32 inputs and outputs
     * here, so each output carries its own rounding (~1e-7 relative) plus that of a dozen or so float32 terms summed;
     * values are of order 1 to 10, so 1e-5 absolute leaves room without hiding a wrong term.
     */
    private static final float TOLERANCE = 1e-5f;

    static List<JsonNode> cases() throws IOException {
        JsonNode f = new ObjectMapper().readTree(Path.of("src/test/resources/advantages.json").toFile());
        List<JsonNode> cases = new ArrayList<>();
        f.get("cases").forEach(cases::add);
        return cases;
    }

    private static float[] floats(JsonNode c, String key) {
        JsonNode a = c.get(key);
        float[] x = new float[a.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) a.get(i).asDouble();
        }
        return x;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void matchesTrlInPyTorch(JsonNode c) {
        int B = c.get("B").asInt();
        int T = c.get("T").asInt();
        float[] mask = floats(c, "mask");
        float[] values = floats(c, "values");
        float[] rewards = Advantages.rewards(floats(c, "logp"), floats(c, "refLogp"), mask, floats(c, "scores"), B, T,
                (float) c.get("beta").asDouble());
        assertArrayEquals(floats(c, "rewards"), rewards, TOLERANCE, "rewards");
        float[] advantages = new float[B * T];
        float[] returns = new float[B * T];
        Advantages.gae(rewards, values, mask, B, T, (float) c.get("gamma").asDouble(), (float) c.get("lambda").asDouble(), advantages,
                returns);
        assertArrayEquals(floats(c, "advantages"), advantages, TOLERANCE, "advantages");
        assertArrayEquals(floats(c, "returns"), returns, TOLERANCE, "returns");
        assertEquals(c.get("meanAdvantage").asDouble(), Advantages.maskedMean(advantages, mask), TOLERANCE, "mean advantage");
        assertEquals(c.get("explainedVariance").asDouble(), Advantages.explainedVariance(values, returns, mask), TOLERANCE,
                "explained variance");
        Advantages.whiten(advantages, mask);
        assertArrayEquals(floats(c, "whitenedAdvantages"), advantages, TOLERANCE, "whitened advantages");
    }

    @Test
    void gaeWithoutDiscountIsTheRewardToGoMinusTheValue() {
        // One sequence, T = 5, response predicted at positions 1..3; γ = λ = 1.
        float[] mask = { 0, 1, 1, 1, 0 };
        float[] values = { 9, 1, 2, 3, 9 };
        float[] logp = { 0, -1, -2, -3, 0 };
        float[] refLogp = { 5, -1.5f, -2, -2, 5 };
        float[] rewards = Advantages.rewards(logp, refLogp, mask, new float[] { 10 }, 1, 5, 0.5f);
        // −0.5·(logp − ref): 0 outside, −0.25, 0, 0.5 + 10 at the last response position
        assertArrayEquals(new float[] { 0, -0.25f, 0, 10.5f, 0 }, rewards, 0f); // 0f: a −0 is 0 here
        float[] adv = new float[5];
        float[] ret = new float[5];
        Advantages.gae(rewards, values, mask, 1, 5, 1, 1, adv, ret);
        assertArrayEquals(new float[] { 0, 10.25f - 1, 10.5f - 2, 10.5f - 3, 0 }, adv, 0f);
        assertArrayEquals(new float[] { 0, 10.25f, 10.5f, 10.5f, 0 }, ret, 0f);
        assertEquals(1, Advantages.explainedVariance(ret, ret, mask));
    }

    @Test
    void whiteningGivesMeanZeroAndUnitSampleVariance() {
        float[] x = { 7, 1, 2, 3, 4, 7 };
        float[] mask = { 0, 1, 1, 1, 1, 0 };
        Advantages.whiten(x, mask);
        // mean 2.5, sample variance (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3
        double s = Math.sqrt(5.0 / 3 + 1e-8);
        assertArrayEquals(new float[] { 0, (float) (-1.5 / s), (float) (-0.5 / s), (float) (0.5 / s), (float) (1.5 / s), 0 }, x, 1e-7f);
        assertEquals(0, Advantages.maskedMean(x, mask), 1e-7);
    }

    @Test
    void rejectsMasksItCannotUse() {
        float[] z = new float[4];
        assertThrows(IllegalArgumentException.class, () -> Advantages.rewards(z, z, new float[] { 1, 0, 1, 0 }, new float[1], 1, 4, 0.1f),
                "a gap in the response");
        assertThrows(IllegalArgumentException.class, () -> Advantages.rewards(z, z, new float[] { 1, 1, 0, 0 }, new float[2], 2, 2, 0.1f),
                "a sequence with no response");
        assertThrows(IllegalArgumentException.class, () -> Advantages.rewards(z, z, new float[] { 0.5f, 1, 0, 0 }, new float[1], 1, 4, 0.1f),
                "a mask of 0 and 1 only");
        assertThrows(IllegalArgumentException.class, () -> Advantages.rewards(z, new float[3], new float[] { 1, 1, 0, 0 }, new float[1], 1, 4, 0.1f),
                "lengths");
        assertThrows(IllegalArgumentException.class, () -> Advantages.whiten(new float[] { 1, 2 }, new float[] { 0, 1 }), "one entry has no variance");
        assertThrows(IllegalArgumentException.class, () -> Advantages.maskedMean(new float[] { 1, 2 }, new float[] { 0, 0 }));
    }

    /**
     * GRPO's group advantages by hand: rewards 1, 2, 3 have mean 2 and unbiased std 1, so (−1, 0, 1)/(1 + 1e-4); a
     * group that agrees gets 0 (TRL's ε keeps it finite); a group of 2 spread by 2 has std √2. Float32 outputs: 1e-6.
     */
    @Test
    void groupAdvantagesByHand() {
        float[] a = Advantages.grouped(new float[] { 1, 2, 3, 5, 5, 5 }, 3);
        double s = 1 + Advantages.GROUP_EPS;
        assertArrayEquals(new float[] { (float) (-1 / s), 0, (float) (1 / s), 0, 0, 0 }, a, 1e-6f);
        float[] pair = Advantages.grouped(new float[] { 0, 2 }, 2);
        assertEquals(-1 / (Math.sqrt(2) + Advantages.GROUP_EPS), pair[0], 1e-6);
        assertThrows(IllegalArgumentException.class, () -> Advantages.grouped(new float[] { 1, 2, 3 }, 2));
        assertThrows(IllegalArgumentException.class, () -> Advantages.grouped(new float[] { 1, 2 }, 1));
    }
}
