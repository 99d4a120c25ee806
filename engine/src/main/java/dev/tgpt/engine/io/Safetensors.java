package dev.tgpt.engine.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.tgpt.engine.UserError;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header naming each tensor's
 * dtype, shape and byte range, then the raw little-endian data. Reads memory-map the file; every inconsistency is a
 * {@link UserError} naming the file. Writes go to a temporary file that is renamed into place, so a reader never
 * sees half a file.
 */
public final class Safetensors implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** A tensor's entry in the header; offsets are relative to the start of the data. */
    public record Tensor(String name, String dtype, long[] shape, long begin, long end) {

        public long elements() {
            return Arrays.stream(shape).reduce(1, Math::multiplyExact);
        }
    }

    /** A tensor to write: FloatArray as F32 or IntArray as I32, with its shape. */
    public record Entry(long[] shape, Object data) {
    }

    private final Path file;
    private final Arena arena;
    private final MemorySegment data;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    private Safetensors(Path file, Arena arena, MemorySegment data, Map<String, Tensor> tensors, Map<String, String> metadata) {
        this.file = file;
        this.arena = arena;
        this.data = data;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static Safetensors open(Path file) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw bad(file, "is " + size + " bytes, too short for a safetensors header");
            }
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long headerLength = all.get(I64, 0);
            if (headerLength <= 0 || headerLength > size - 8) {
                throw bad(file, "declares a " + headerLength + "-byte header but has " + (size - 8) + " bytes after the length: "
                        + "truncated, or not a safetensors file");
            }
            byte[] header = all.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
            MemorySegment data = all.asSlice(8 + headerLength);
            Map<String, String> metadata = new TreeMap<>();
            Map<String, Tensor> tensors = parse(file, header, data.byteSize(), metadata);
            return new Safetensors(file, arena, data, tensors, metadata);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new UserError(file + ": no such file");
        } catch (IOException e) {
            arena.close();
            throw new UserError(file + ": cannot read (" + e.getMessage() + ")");
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Map<String, Tensor> parse(Path file, byte[] header, long dataSize, Map<String, String> metadata) {
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (IOException e) {
            throw bad(file, "has a header that is not JSON: not a safetensors file, or damaged");
        }
        if (root == null || !root.isObject()) {
            throw bad(file, "has a header that is not a JSON object");
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            JsonNode t = e.getValue();
            JsonNode shapeNode = t.get("shape");
            JsonNode offsets = t.get("data_offsets");
            String dtype = t.path("dtype").asText("");
            if (shapeNode == null || !shapeNode.isArray() || offsets == null || offsets.size() != 2 || dtype.isEmpty()) {
                throw bad(file, "has a malformed header entry for tensor " + e.getKey());
            }
            long[] shape = new long[shapeNode.size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = shapeNode.get(i).asLong(-1);
                if (shape[i] < 0) {
                    throw bad(file, "gives tensor " + e.getKey() + " a negative dimension");
                }
            }
            Tensor tensor = new Tensor(e.getKey(), dtype, shape, offsets.get(0).asLong(), offsets.get(1).asLong());
            if (tensor.begin() < 0 || tensor.end() < tensor.begin() || tensor.end() > dataSize) {
                throw bad(file, "places tensor " + e.getKey() + " at bytes " + tensor.begin() + ".." + tensor.end() + " of "
                        + dataSize + ": the file is truncated or damaged");
            }
            int bytes = dtypeBytes(dtype);
            if (bytes > 0 && tensor.end() - tensor.begin() != tensor.elements() * bytes) {
                throw bad(file, "gives tensor " + e.getKey() + " " + (tensor.end() - tensor.begin()) + " bytes for shape "
                        + Arrays.toString(shape) + " of " + dtype);
            }
            tensors.put(e.getKey(), tensor);
        }
        return Collections.unmodifiableMap(tensors);
    }

    private static int dtypeBytes(String dtype) {
        return switch (dtype) {
            case "F32", "I32" -> 4;
            case "I64", "F64" -> 8;
            case "F16", "BF16", "I16" -> 2;
            case "U8", "I8", "BOOL" -> 1;
            default -> 0;
        };
    }

    private static UserError bad(Path file, String problem) {
        return new UserError(file + " " + problem);
    }

    public Path file() {
        return file;
    }

    public Map<String, Tensor> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw bad(file, "has no tensor " + name);
        }
        return t;
    }

    /** A float tensor (F32, F16 or BF16) as a new FloatArray. */
    public FloatArray floats(String name) {
        Tensor t = tensor(name);
        int n = Math.toIntExact(t.elements());
        FloatArray out = new FloatArray(n);
        MemorySegment src = data.asSlice(t.begin(), t.end() - t.begin());
        switch (t.dtype()) {
            case "F32" -> MemorySegment.copy(src, F32, 0, out.getSegment(), ValueLayout.JAVA_FLOAT, 0, n);
            case "F16" -> {
                for (int i = 0; i < n; i++) {
                    out.set(i, Float.float16ToFloat(src.getAtIndex(U16, i)));
                }
            }
            case "BF16" -> {
                for (int i = 0; i < n; i++) {
                    out.set(i, Float.intBitsToFloat((src.getAtIndex(U16, i) & 0xFFFF) << 16));
                }
            }
            default -> throw bad(file, "holds tensor " + name + " as " + t.dtype() + ", not a float type");
        }
        return out;
    }

    /** An integer tensor (I32, or I64 within int range) as a new IntArray. */
    public IntArray ints(String name) {
        Tensor t = tensor(name);
        int n = Math.toIntExact(t.elements());
        IntArray out = new IntArray(n);
        MemorySegment src = data.asSlice(t.begin(), t.end() - t.begin());
        switch (t.dtype()) {
            case "I32" -> MemorySegment.copy(src, I32, 0, out.getSegment(), ValueLayout.JAVA_INT, 0, n);
            case "I64" -> {
                for (int i = 0; i < n; i++) {
                    long v = src.getAtIndex(I64, i);
                    if (v != (int) v) {
                        throw bad(file, "holds " + v + " in tensor " + name + ", beyond the int range");
                    }
                    out.set(i, (int) v);
                }
            }
            default -> throw bad(file, "holds tensor " + name + " as " + t.dtype() + ", not an integer type");
        }
        return out;
    }

    @Override
    public void close() {
        arena.close();
    }

    /**
     * Writes tensors (in name order) and metadata atomically ({@link AtomicFile}): a failure to write is a {@link UserError}
     * naming the file.
     */
    public static void write(Path file, Map<String, Entry> entries, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            new TreeMap<>(metadata).forEach(m::put);
        }
        long offset = 0;
        Map<String, Entry> sorted = new TreeMap<>(entries);
        for (Map.Entry<String, Entry> e : sorted.entrySet()) {
            Entry entry = e.getValue();
            long bytes = switch (entry.data()) {
                case FloatArray f -> f.getNumBytesOfSegment();
                case IntArray i -> i.getNumBytesOfSegment();
                default -> throw new IllegalArgumentException(e.getKey() + ": not a FloatArray or IntArray");
            };
            long elements = Arrays.stream(entry.shape()).reduce(1, Math::multiplyExact);
            if (elements * 4 != bytes) {
                throw new IllegalArgumentException(e.getKey() + ": shape " + Arrays.toString(entry.shape()) + " does not match " + bytes / 4
                        + " elements");
            }
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", entry.data() instanceof FloatArray ? "F32" : "I32");
            var shape = t.putArray("shape");
            Arrays.stream(entry.shape()).forEach(shape::add);
            var offsets = t.putArray("data_offsets");
            offsets.add(offset);
            offsets.add(offset + bytes);
            offset += bytes;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(header);
        } catch (JsonProcessingException e) {
            throw new IOException(e);
        }
        // The data starts 8-byte aligned, as Hugging Face writes it: pad the header with spaces.
        int padded = (json.length + 7) / 8 * 8;
        AtomicFile.write(file, ch -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment head = a.allocate(8 + padded);
                head.set(I64, 0, padded);
                head.asSlice(8, padded).fill((byte) ' ');
                MemorySegment.copy(json, 0, head, ValueLayout.JAVA_BYTE, 8, json.length);
                AtomicFile.writeFully(ch, head);
            }
            for (Entry entry : sorted.values()) {
                MemorySegment seg = entry.data() instanceof FloatArray f ? f.getSegment() : ((IntArray) entry.data()).getSegment();
                // Native order on every machine this runs on is little-endian, the format's order.
                AtomicFile.writeFully(ch, seg);
            }
        });
    }
}
