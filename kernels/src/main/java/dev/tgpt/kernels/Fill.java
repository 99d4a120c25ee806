package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** a[i] = value: zeroes gradients at the start of a step. */
public final class Fill {

    private Fill() {
    }

    public static void fill(FloatArray a, float value) {
        for (@Parallel int i = 0; i < a.getSize(); i++) {
            a.set(i, value);
        }
    }
}
