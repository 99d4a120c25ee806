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

    /** --gpu-sizes holds issue 19's shapes (not run here: they take gigabytes), every kernel in both directions. */
    @Test
    void gpuSizesAreIssue19s() {
        List<String> shapes = KernelCases.gpu().stream().map(c -> c.name() + " " + c.shape()).toList();
        for (String want : List.of("matmul.forward N=4096 C=4096 OC=4096", "layernorm.backward N=8192 C=768", "softmax.forward R=98304 T=1024",
                "attention.backward B=8 T=1024 H=12 d=64", "attention.forward B=1 T=4096 H=12 d=64", "sparse_attention.forward B=1 T=16384 H=12 d=64 l=128",
                "adamw.update n=124439808")) {
            assertTrue(shapes.contains(want), want + " in " + shapes);
        }
        assertTrue(ModelCases.gpu().stream().anyMatch(c -> c.name().equals("train_step") && c.shape().contains("L=12") && c.shape().contains("T=1024")
                && c.shape().endsWith("B=8")), ModelCases.gpu().toString());
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
