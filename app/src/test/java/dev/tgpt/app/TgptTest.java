package dev.tgpt.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;

/** The commands, run in process as the launcher runs them. */
class TgptTest {

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        CommandLine cl = Tgpt.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void devicesListsTheJvmBackendAndEveryTornadoDevice() {
        Run r = run("devices");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("jvm ") && l.contains("SIMD")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("0:0 ")), r.out());
        assertTrue(r.out().contains("auto -> "), r.out());
    }

    @Test
    void anAbsentDeviceIsOneLineAndExitCode2() {
        Run r = run("kernels", "--check", "--device", "9:9");
        assertEquals(2, r.code());
        assertEquals("tgpt: no TornadoVM device 9:9 here; ./tgpt devices lists the devices this program can use", r.err().strip());
    }

    @Test
    void aMalformedDeviceIsOneLine() {
        Run bad = run("kernels", "--device", "cuda", "--check");
        assertEquals(2, bad.code());
        assertTrue(bad.err().startsWith("tgpt: --device takes jvm, auto, N:M or a list N:M,N:M"), bad.err());
        Run list = run("kernels", "--device", "0:0,jvm", "--check");
        assertEquals(2, list.code());
        assertTrue(list.err().startsWith("tgpt: --device takes a list of TornadoVM devices N:M,N:M,..."), list.err());
    }

    @Test
    void kernelCheckPassesOnTheJvmBackend() {
        Run r = run("kernels", "--check", "--device", "jvm");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("checks passed on jvm"), r.out());
        assertTrue(r.out().lines().filter(l -> l.endsWith("PASS")).count() >= 2, r.out());
    }

    @Test
    void everyCommandHasHelp() {
        for (String c : new String[] { "devices", "kernels" }) {
            Run r = run(c, "--help");
            assertEquals(0, r.code());
            assertTrue(r.out().contains("Usage: tgpt " + c), r.out());
        }
    }
}
