package dev.tgpt.engine;

import java.nio.file.Path;

import dev.tgpt.engine.io.Safetensors;

/** PyTorch's fixtures (engine/src/test/resources/fixtures, made by make_fixtures.py there). */
public final class Fixtures {

    private Fixtures() {
    }

    public static Safetensors open(String op) {
        return Safetensors.open(Path.of("src/test/resources/fixtures", op + ".safetensors"));
    }

    public static int meta(Safetensors f, String key) {
        return Integer.parseInt(f.metadata().get(key));
    }
}
