package dev.tgpt.engine.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tgpt.engine.Backend;
import dev.tgpt.engine.TestBackends;
import dev.tgpt.engine.check.CheckResult;
import dev.tgpt.engine.check.GatherCheck;

class GatherTest {

    static Stream<Backend> backends() {
        return TestBackends.all();
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kernelsMatchTheReference(Backend backend) {
        for (CheckResult result : new GatherCheck().run(backend)) {
            assertTrue(result.pass(), () -> backend.info().id() + ": " + result.line());
        }
    }
}
