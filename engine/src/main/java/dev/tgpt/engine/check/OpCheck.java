package dev.tgpt.engine.check;

import java.util.List;

import dev.tgpt.engine.Backend;

/** An op's self-check: its forward and backward launches on a backend against its plain reference, at a few shapes. */
public interface OpCheck {

    String op();

    List<CheckResult> run(Backend backend);
}
