package dev.tgpt.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad setups get one clear line from ./tgpt and tornado-env.sh, and nothing else changes. */
class LauncherTest {

    static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    record Result(int code, String out, String err) {
    }

    static Result bash(String script, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", script).directory(ROOT.toFile());
        pb.environment().remove("JAVA_HOME");
        pb.environment().remove("TORNADOVM_HOME");
        pb.environment().remove("TGPT_TORNADO_ARGFILE");
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + script);
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    /** A directory that looks like a JDK of the given version to the launcher (its release file), with no java that runs. */
    static Path fakeJdk(Path dir, String version) throws IOException {
        Files.createDirectories(dir.resolve("bin"));
        Files.writeString(dir.resolve("release"), "JAVA_VERSION=\"" + version + "\"\n");
        Path java = dir.resolve("bin/java");
        Files.writeString(java, "#!/bin/sh\nexit 1\n");
        java.toFile().setExecutable(true);
        return dir;
    }

    @Test
    void oldJdkIsRefusedInOneLine(@TempDir Path tmp) throws Exception {
        Path jdk = fakeJdk(tmp.resolve("jdk17"), "17.0.9");
        Result r = bash("./tgpt devices", Map.of("JAVA_HOME", jdk.toString()));
        assertEquals(2, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("tgpt: JAVA_HOME is JDK 17"), r.err());
    }

    @Test
    void aBadTgptMemoryIsRefusedBeforeAnything() throws Exception {
        Result bad = bash("./tgpt devices", Map.of("TGPT_MEMORY", "lots"));
        assertEquals(2, bad.code());
        assertTrue(bad.err().startsWith("tgpt: TGPT_MEMORY takes a size such as 20g or 4096m, not 'lots'"), bad.err());
    }

    @Test
    void sdkVariablesWithoutTornadoEnvAreRefused(@TempDir Path tmp) throws Exception {
        Result r = bash("./tgpt devices", Map.of("TORNADOVM_HOME", tmp.toString()));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("source tornado-env.sh"), r.err());
    }

    @Test
    void tornadoEnvRejectsAMissingDirectory() throws Exception {
        Result r = bash("source tornado-env.sh /no/such/sdk; echo \"rc=$? home=${TORNADOVM_HOME:-unset}\"", Map.of());
        assertTrue(r.out().contains("rc=1 home=unset"), r.out());
        assertEquals("tornado-env: /no/such/sdk does not exist (TORNADOVM_HOME or the SDK_DIR argument must name a TornadoVM SDK directory)",
                r.err().strip());
    }

    @Test
    void tornadoEnvRecognisesTheSourceTree(@TempDir Path tmp) throws Exception {
        Files.createDirectories(tmp.resolve("bin/sdk"));
        Result r = bash("source tornado-env.sh " + tmp + "; echo rc=$?", Map.of());
        assertTrue(r.out().contains("rc=1"), r.out());
        assertTrue(r.err().contains("source tree, not its SDK; use " + tmp.toRealPath() + "/bin/sdk"), r.err());
    }

    @Test
    void tornadoEnvRejectsSomethingElse(@TempDir Path tmp) throws Exception {
        Result r = bash("source tornado-env.sh " + tmp + "; echo rc=$?", Map.of());
        assertTrue(r.out().contains("rc=1"), r.out());
        assertTrue(r.err().contains("is not a TornadoVM SDK"), r.err());
    }

    @Test
    void tornadoEnvRejectsAnSdkWithoutBackends(@TempDir Path tmp) throws Exception {
        Files.createDirectories(tmp.resolve("etc"));
        Files.writeString(tmp.resolve("etc/tornado.release"), "version=5.2.1-jdk25-dev\n");
        Files.writeString(tmp.resolve("etc/tornado.backend"), "tornado.backends=\n");
        Files.writeString(tmp.resolve("tornado-argfile.template"), "-server\n");
        Result r = bash("source tornado-env.sh " + tmp + "; echo rc=$?", Map.of());
        assertTrue(r.out().contains("rc=1"), r.out());
        assertTrue(r.err().contains("has no backend built"), r.err());
    }

    @Test
    void tornadoEnvMustBeSourced() throws Exception {
        Result r = bash("bash tornado-env.sh", Map.of());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("source this file"), r.err());
    }
}
