package dev.tgpt.engine.check;

import java.util.Locale;

/**
 * One op checked in one direction at one shape.
 *
 * @param error     max |kernel − reference| / max |reference|, over all outputs of that direction
 * @param tolerance the largest error that passes
 */
public record CheckResult(String op, String direction, String shape, double error, double tolerance) {

    /** NaN never passes. */
    public boolean pass() {
        return error <= tolerance;
    }

    public String line() {
        return String.format(Locale.ROOT, "%-22s %-9s %-28s max err %9.2e  tol %8.1e  %s", op, direction, shape, error, tolerance,
                pass() ? "PASS" : "FAIL");
    }
}
