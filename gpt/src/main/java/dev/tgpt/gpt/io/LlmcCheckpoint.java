package dev.tgpt.gpt.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.function.Function;

import dev.tgpt.engine.UserError;
import dev.tgpt.engine.io.AtomicFile;
import dev.tgpt.gpt.GptConfig;
import dev.tgpt.gpt.Parameters;
import dev.tgpt.gpt.data.Gpt2Tokenizer;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * llm.c's GPT-2 model file (train_gpt2.c, e.g. gpt2_124M.bin): a header of 256 little-endian int32 (magic 20240326,
 * version 3 for fp32 or 5 for bf16, max context, vocabulary, layers, heads, channels, padded vocabulary), then the
 * parameters: wte [Vp, C], wpe [maxT, C], each per-layer tensor stacked over the layers, lnfw, lnfb. Matrices are
 * already [out, in]; wte's padding rows beyond the vocabulary are dropped.
 *
 * <p>{@link #write} produces what train_gpt2.py's {@code write_model} does for fp32 (any vocabulary: train_gpt2.c reads
 * V and Vp from the header), so that llm.c's CPU trainer can start from a tgpt model.
 */
public final class LlmcCheckpoint {

    static final int MAGIC = 20240326;
    static final int FP32 = 3;
    static final int BF16 = 5;
    static final int HEADER_BYTES = 256 * 4;
    /** llm.c pads the vocabulary (wte's rows) to a multiple of this, with zero rows (train_gpt2.py's pad_vocab). */
    static final int VOCAB_MULTIPLE = 128;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The per-layer tensors in llm.c's order (which is also the order of {@link Parameters.Layer}'s components). */
    static final List<Function<Parameters.Layer, FloatArray>> LAYER_TENSORS = List.of(Parameters.Layer::ln1w, Parameters.Layer::ln1b,
            Parameters.Layer::qkvw, Parameters.Layer::qkvb, Parameters.Layer::attprojw, Parameters.Layer::attprojb, Parameters.Layer::ln2w,
            Parameters.Layer::ln2b, Parameters.Layer::fcw, Parameters.Layer::fcb, Parameters.Layer::fcprojw, Parameters.Layer::fcprojb);

    private LlmcCheckpoint() {
    }

    /** The model's configuration from the file's header alone (what a memory plan needs before the weights are read). */
    public static GptConfig config(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            java.nio.ByteBuffer head = java.nio.ByteBuffer.allocate(8 * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            while (head.hasRemaining() && ch.read(head) > 0) {
            }
            int[] h = new int[8];
            head.flip().asIntBuffer().get(h, 0, head.remaining() / 4);
            return config(file, ch.size(), h);
        } catch (NoSuchFileException e) {
            throw new UserError(file + ": no such file");
        } catch (IOException e) {
            throw new UserError("cannot read " + file + " (" + e + ")", e);
        }
    }

    /** The header's first 8 ints checked: llm.c's magic, a version read here, GPT-2's vocabulary, a valid shape. */
    private static GptConfig config(Path file, long size, int[] h) {
        String notOurs = " is not a checkpoint directory nor llm.c's model file (like gpt2_124M.bin)";
        if (size < HEADER_BYTES) {
            throw new UserError(file + notOurs + ": it is " + size + " bytes, shorter than llm.c's header");
        }
        if (h[0] != MAGIC) {
            throw new UserError(file + notOurs + ": its magic number is " + h[0] + ", not " + MAGIC);
        }
        if (h[1] != FP32 && h[1] != BF16) {
            throw new UserError(file + ": llm.c model version " + h[1] + " is not supported (3: fp32, 5: bf16)");
        }
        int maxT = h[2], vocab = h[3], layers = h[4], heads = h[5], channels = h[6], padded = h[7];
        if (vocab != Gpt2Tokenizer.VOCAB_SIZE || padded < vocab) {
            throw new UserError(file + ": vocabulary " + vocab + " padded to " + padded + "; llm.c's GPT-2 models have GPT-2's "
                    + Gpt2Tokenizer.VOCAB_SIZE + " tokens, padded to at least that");
        }
        try {
            return new GptConfig(GptConfig.Style.GPT2, vocab, maxT, layers, heads, channels, 0f, 0);
        } catch (UserError e) {
            throw new UserError(file + ": " + e.getMessage());
        }
    }

    /** A GPT-2 model with GPT-2's tokenizer (llm.c's models all use it), no training state, no dropout. */
    public static Checkpoint read(Path file) {
        GptConfig config = config(file);
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            int[] h = all.asSlice(0, 8 * 4).toArray(I32);
            int channels = h[6], padded = h[7], vocab = h[3];
            Parameters p = new Parameters(config);
            int bytes = h[1] == FP32 ? 4 : 2;
            long padding = (long) (padded - vocab) * channels;
            long expected = HEADER_BYTES + (p.count() + padding) * bytes;
            if (size != expected) {
                throw new UserError(file + " is " + size + " bytes, but its header describes " + expected + ": "
                        + (size < expected ? "truncated" : "damaged"));
            }
            Reader in = new Reader(all, bytes);
            in.read(p.wte);
            in.offset += padding * bytes;
            in.read(p.wpe);
            for (Function<Parameters.Layer, FloatArray> tensor : LAYER_TENSORS) {
                for (Parameters.Layer layer : p.layers) {
                    in.read(tensor.apply(layer));
                }
            }
            in.read(p.lnfw);
            in.read(p.lnfb);
            return new Checkpoint(config, new Gpt2Tokenizer(), p, null);
        } catch (NoSuchFileException e) {
            throw new UserError(file + ": no such file");
        } catch (IOException e) {
            throw new UserError("cannot read " + file + " (" + e + ")", e);
        }
    }

    /**
     * Writes an fp32 model file (version 3) atomically: llm.c's header, then wte padded with zero rows to a multiple
     * of 128, wpe, each per-layer tensor stacked over the layers, lnfw, lnfb.
     */
    public static void write(Path file, GptConfig config, Parameters p) {
        if (config.style() != GptConfig.Style.GPT2) {
            throw new UserError("llm.c's model files hold GPT-2 models (pre-LN blocks, dense attention), not " + config.style());
        }
        if (!config.withDropout(0).equals(p.config.withDropout(0))) {
            throw new IllegalArgumentException("the parameters are of " + p.config + ", not " + config);
        }
        int padded = paddedVocab(config.vocabSize());
        AtomicFile.write(file, ch -> {
            ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            for (int v : new int[] { MAGIC, FP32, config.context(), config.vocabSize(), config.layers(), config.heads(), config.channels(),
                    padded }) {
                header.putInt(v);
            }
            AtomicFile.writeFully(ch, header.clear());
            AtomicFile.writeFully(ch, p.wte.getSegment());
            AtomicFile.writeFully(ch, ByteBuffer.allocate((padded - config.vocabSize()) * config.channels() * 4));
            AtomicFile.writeFully(ch, p.wpe.getSegment());
            for (Function<Parameters.Layer, FloatArray> tensor : LAYER_TENSORS) {
                for (Parameters.Layer layer : p.layers) {
                    AtomicFile.writeFully(ch, tensor.apply(layer).getSegment());
                }
            }
            AtomicFile.writeFully(ch, p.lnfw.getSegment());
            AtomicFile.writeFully(ch, p.lnfb.getSegment());
        });
    }

    /** The vocabulary rounded up to llm.c's multiple of 128 (50,257 → 50,304; 65 → 128). */
    public static int paddedVocab(int vocab) {
        return (vocab + VOCAB_MULTIPLE - 1) / VOCAB_MULTIPLE * VOCAB_MULTIPLE;
    }

    /** Reads consecutive tensors, fp32 or bf16 (bf16 is fp32's top half). */
    private static final class Reader {
        final MemorySegment file;
        final int bytes;
        long offset = HEADER_BYTES;

        Reader(MemorySegment file, int bytes) {
            this.file = file;
            this.bytes = bytes;
        }

        void read(FloatArray into) {
            int n = into.getSize();
            if (bytes == 4) {
                MemorySegment.copy(file, F32, offset, into.getSegment(), ValueLayout.JAVA_FLOAT, 0, n);
            } else {
                for (int i = 0; i < n; i++) {
                    into.set(i, Float.intBitsToFloat((file.get(U16, offset + 2L * i) & 0xFFFF) << 16));
                }
            }
            offset += (long) n * bytes;
        }
    }
}
