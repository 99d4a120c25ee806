package uk.ac.manchester.tornado.api.math;

/** Math functions that TornadoVM compiles to the device's float intrinsics (java.lang.Math would give doubles). */
public class TornadoMath {

    public static float min(float a, float b) {
        return Math.min(a, b);
    }

    public static int min(int a, int b) {
        return Math.min(a, b);
    }

    public static float max(float a, float b) {
        return Math.max(a, b);
    }

    public static int max(int a, int b) {
        return Math.max(a, b);
    }

    public static float abs(float a) {
        return Math.abs(a);
    }

    public static float exp(float value) {
        return (float) Math.exp(value);
    }

    public static float log(float value) {
        return (float) Math.log(value);
    }

    public static float sqrt(float value) {
        return (float) Math.sqrt(value);
    }

    public static float tanh(float value) {
        return (float) Math.tanh(value);
    }

    public static float pow(float a, float b) {
        return (float) Math.pow(a, b);
    }

    public static float floor(float f) {
        return (float) Math.floor(f);
    }
}
