package dev.tgpt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Param;

class KernelJmhTest {

    /** JMH's parameters must be constants: this keeps them the quick cases, so that JMH benchmarks what ./tgpt bench does. */
    @Test
    void defaultCasesAreTheQuickCases() throws NoSuchFieldException {
        List<String> defaults = List.of(KernelJmh.class.getField("kase").getAnnotation(Param.class).value());
        assertEquals(KernelCases.all(true).stream().map(KernelJmh::label).toList(), defaults);
    }

    @Test
    void labelsParseBack() {
        for (Case c : KernelCases.all(false)) {
            assertTrue(KernelJmh.parse(KernelJmh.label(c)).sameAs(c.name(), c.params()), c::toString);
        }
    }
}
