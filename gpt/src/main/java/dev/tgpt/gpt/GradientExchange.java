package dev.tgpt.gpt;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import dev.tgpt.engine.Launch;
import dev.tgpt.engine.Slab;
import dev.tgpt.engine.dist.Collective;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * A step's gradients summed over the ranks: all-reduced, or under ZeRO-1 reduce-scattered (each rank gets the sums of
 * its shard). When asked ({@link Trainer.Options#overlap}), overlapped with the backward pass: as soon as the backward
 * has finished a layer's gradients (the last layer's first), a thread of the exchange's own hands them to MPI while the
 * backward goes on with the layers below; what the backward finishes last (the tied embedding, whose gradient gets its
 * last part at the very end, the position embedding, the final layer norm) is exchanged after it. The hand-over is
 * host code in the backward ({@link Launch#host}): the JVM backend runs it between launches; on a TornadoVM device a
 * task graph ends there and the layer's ranges are copied to the host first, so MPI works while the device computes
 * the layers below. LoRA's adapters (small) are exchanged whole after the backward.
 *
 * <p>Every rank sends the same ranges in the same order (one thread, in the backward's order), as MPI requires.
 */
final class GradientExchange implements AutoCloseable {

    private final Collective world;
    private final FloatArray slab;
    /** ZeRO-1's shards of the slab (size()+1 starts); null: every rank gets every sum. */
    private final long[] shards;
    /** Overlapped: each layer's ranges of the slab, [from, to) pairs; and the ranges no layer holds. */
    private final long[][] layers;
    private final long[] rest;
    private final ExecutorService thread;
    private final List<Future<?>> sent = new ArrayList<>();
    private boolean armed;

    /**
     * @param grads   the gradients, whose slab is exchanged
     * @param shards  ZeRO-1's shard starts of the slab, or null
     * @param overlap whether to overlap the backward, which then carries {@link #afterLayer}'s launches
     */
    GradientExchange(Collective world, Parameters grads, long[] shards, boolean overlap) {
        this(world, grads.all(), shards, overlap && world.size() > 1 && world.callableFromAnyThread() ? layerRanges(grads) : null);
    }

    /** The whole slab at once, after the backward: a device backend's, or LoRA's adapters. */
    GradientExchange(Collective world, FloatArray slab, long[] shards) {
        this(world, slab, shards, null);
    }

    private GradientExchange(Collective world, FloatArray slab, long[] shards, long[][] layers) {
        this.world = world;
        this.slab = slab;
        this.shards = shards;
        this.layers = layers;
        this.rest = layers == null ? new long[] { 0, slab.getSize() } : complement(layers, slab.getSize());
        this.thread = layers == null ? null
                : Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("tgpt-gradient-exchange").factory());
    }

    /** Whether the exchange overlaps the backward: the backward must then carry {@link #afterLayer}'s launches. */
    boolean overlapped() {
        return thread != null;
    }

    /**
     * The backward's launch after layer l's gradients are final: hands them to the exchange's thread when armed (a
     * device copies them to the host first).
     */
    Launch afterLayer(int l) {
        return Launch.host("layer_" + l + ".exchange", () -> {
            if (armed) {
                send(layers[l]);
            }
        }, slab, () -> armed ? layers[l] : NOTHING);
    }

    /** The [from, to) ranges of the slab that the backward has not handed over: what a device must copy out for {@link #finish}. */
    long[] unread() {
        return overlapped() && armed ? rest : new long[] { 0, slab.getSize() };
    }

    /** Whether the next run of the backward is a step's last micro-batch, whose gradients are then exchanged. */
    void arm(boolean lastMicroBatch) {
        armed = overlapped() && lastMicroBatch;
    }

    /** Exchanges what the backward has not handed over yet, and waits until every range is summed. */
    void finish() {
        if (overlapped()) {
            send(armed ? rest : new long[] { 0, slab.getSize() });
            armed = false;
            try {
                for (Future<?> f : sent) {
                    f.get();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while exchanging gradients", e);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
            } finally {
                sent.clear();
            }
        } else {
            exchange(rest);
        }
    }

    private static final long[] NOTHING = {};

    private void send(long[] ranges) {
        sent.add(thread.submit(() -> exchange(ranges)));
    }

    private void exchange(long[] ranges) {
        world.sumRanges(slab, ranges, shards);
    }

    /** Per layer, the slab ranges its tensors take (views next to each other merged, with the gap between them). */
    static long[][] layerRanges(Parameters grads) {
        int layers = grads.config.layers();
        long[][] out = new long[layers][];
        for (int l = 0; l < layers; l++) {
            String prefix = "transformer.h." + l + ".";
            List<long[]> spans = new ArrayList<>();
            for (Parameters.Tensor t : grads.tensors()) {
                if (t.name().startsWith(prefix)) {
                    long from = Slab.offsetOf(t.data());
                    spans.add(new long[] { from, from + t.size() });
                }
            }
            spans.sort(Comparator.comparingLong(s -> s[0]));
            List<Long> merged = new ArrayList<>();
            for (long[] s : spans) {
                // consecutive views are less than two alignments apart; a layer's next region starts further away
                if (!merged.isEmpty() && s[0] - merged.getLast() < 2 * Slab.ALIGN) {
                    merged.set(merged.size() - 1, s[1]);
                } else {
                    merged.add(s[0]);
                    merged.add(s[1]);
                }
            }
            out[l] = merged.stream().mapToLong(Long::longValue).toArray();
        }
        return out;
    }

    /** The ranges of [0, size) that none of these hold. */
    static long[] complement(long[][] held, long size) {
        List<long[]> spans = new ArrayList<>();
        for (long[] ranges : held) {
            for (int i = 0; i < ranges.length; i += 2) {
                spans.add(new long[] { ranges[i], ranges[i + 1] });
            }
        }
        spans.sort(Comparator.comparingLong(s -> s[0]));
        List<Long> out = new ArrayList<>();
        long at = 0;
        for (long[] s : spans) {
            if (s[0] > at) {
                out.add(at);
                out.add(s[0]);
            }
            at = Math.max(at, s[1]);
        }
        if (at < size) {
            out.add(at);
            out.add(size);
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    @Override
    public void close() {
        if (thread != null) {
            thread.shutdownNow();
        }
    }
}
