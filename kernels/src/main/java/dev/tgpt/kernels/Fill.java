package dev.tgpt.kernels;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** a[aOff + i] = value for i in [0, n): zeroes gradients at the start of a step (a may be a slab, aOff a view's place in it). */
public final class Fill {

    private Fill() {
    }

    public static void fill(FloatArray a, int aOff, int n, float value) {
        for (@Parallel int i = 0; i < n; i++) {
            a.set(aOff + i, value);
        }
    }
}
