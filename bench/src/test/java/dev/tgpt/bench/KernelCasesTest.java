package dev.tgpt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import dev.tgpt.engine.JvmBackend;
import dev.tgpt.engine.UserError;

class KernelCasesTest {

    @Test
    void everyKernelHasForwardAndBackwardCasesThatRunOnTheJvmBackend() {
        List<Case> quick = KernelCases.all(true);
        Set<String> names = quick.stream().map(Case::name).collect(Collectors.toSet());
        for (String op : List.of("matmul", "layernorm", "gelu", "residual", "embedding", "crossentropy", "softmax", "attention", "sparse_attention")) {
            assertTrue(names.contains(op + ".forward") && names.contains(op + ".backward"), op);
        }
        assertTrue(names.contains("adamw.update"));
        Protocol once = new Protocol(0, 1, 0, 1);
        JvmBackend jvm = new JvmBackend();
        for (Case c : quick) {
            Result r = Sweep.timeKernel(jvm, c, once, Peaks.UNKNOWN);
            assertEquals(2, r.runs(), c.name()); // the protocol keeps the last two attempts, of one run each here
            assertTrue(r.medianMs() > 0 && r.throughput() > 0, c.name() + " " + c.shape());
            assertTrue(Double.isNaN(r.compileMs()), "the JVM backend has no TornadoVM profiler");
        }
    }

    @Test
    void theFullSweepHasMoreSizesThanQuick() {
        assertTrue(KernelCases.all(false).size() > KernelCases.all(true).size());
    }

    @Test
    void selectsByOpOrByDirectionAndRejectsUnknownNames() {
        List<Case> all = KernelCases.all(true);
        assertTrue(KernelCases.select(all, List.of("gelu")).stream().allMatch(c -> c.op().equals("gelu")));
        assertFalse(KernelCases.select(all, List.of("gelu.forward")).stream().anyMatch(c -> c.name().equals("gelu.backward")));
        UserError e = assertThrows(UserError.class, () -> KernelCases.select(all, List.of("convolution")));
        assertTrue(e.getMessage().contains("matmul"), e.getMessage());
    }
}
