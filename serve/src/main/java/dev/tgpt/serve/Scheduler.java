package dev.tgpt.serve;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import dev.tgpt.gpt.Sampler;
import dev.tgpt.gpt.data.Tokenizer;

/**
 * Continuous batching: one thread owns a {@link Sampler} of {@code slots} sequences and runs its decoding steps;
 * requests wait in a bounded queue, join the running batch between steps when enough slots are free, and leave it
 * when done or cancelled. Each request's sequences report their text as it grows, as {@link Event}s.
 */
final class Scheduler implements AutoCloseable {

    /** What a request hears: a piece of sequence {@code index}'s text, or its end (finish non-null), or an error. */
    record Event(int index, String delta, String finish, int promptTokens, int completionTokens, RuntimeException error) {
    }

    /** A request: n sequences continuing one prompt. */
    static final class Job {
        final String prompt;
        final Sampler.Options options;
        final int n;
        final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        /** Set by the request's thread when its client has gone: the scheduler frees the slots at its next step. */
        volatile boolean cancelled;
        private Sampler.Sequence[] sequences;
        private boolean[] ended;
        private int finished;

        Job(String prompt, Sampler.Options options, int n) {
            this.prompt = prompt;
            this.options = options;
            this.n = n;
        }
    }

    private Sampler sampler;
    private final Tokenizer tokenizer;
    private final BlockingQueue<Job> queue;
    private final Thread thread;
    private volatile boolean closing;
    private final AtomicInteger cancelled = new AtomicInteger();
    /** Jobs queued or generating. */
    private final AtomicInteger inFlight = new AtomicInteger();

    /**
     * @param open opens the sampler, on the scheduler's own thread: the one thread that ever runs its programs (a
     *                device's queues need not be shared between threads); a failure to open it is thrown here
     */
    Scheduler(Supplier<Sampler> open, Tokenizer tokenizer, int queued) {
        this.tokenizer = tokenizer;
        this.queue = new ArrayBlockingQueue<>(Math.max(1, queued));
        CompletableFuture<Void> opened = new CompletableFuture<>();
        this.thread = Thread.ofPlatform().name("tgpt-scheduler").daemon().start(() -> {
            try {
                this.sampler = open.get();
                opened.complete(null);
            } catch (RuntimeException | Error e) {
                opened.completeExceptionally(e);
                return;
            }
            try {
                loop();
            } finally {
                this.sampler.close();
            }
        });
        try {
            opened.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    /** Queues a job; false when the queue is full (the server answers 429). */
    boolean submit(Job job) {
        inFlight.incrementAndGet();
        if (closing || !queue.offer(job)) {
            inFlight.decrementAndGet();
            return false;
        }
        return true;
    }

    /** Requests queued or generating now. */
    int inFlight() {
        return inFlight.get();
    }

    private void loop() {
        List<Job> active = new ArrayList<>();
        try {
            while (!(closing && active.isEmpty() && queue.isEmpty())) {
                for (Job next; (next = queue.peek()) != null && next.n <= sampler.free();) {
                    queue.poll();
                    if (start(next)) {
                        active.add(next);
                    }
                }
                for (Iterator<Job> i = active.iterator(); i.hasNext();) {
                    Job job = i.next();
                    if (job.cancelled) {
                        for (Sampler.Sequence q : job.sequences) {
                            sampler.cancel(q);
                        }
                        cancelled.incrementAndGet();
                        inFlight.decrementAndGet();
                        i.remove();
                    }
                }
                if (active.isEmpty()) {
                    Job next = queue.poll(50, TimeUnit.MILLISECONDS);
                    if (next != null && start(next)) {
                        active.add(next);
                    }
                    continue;
                }
                sampler.step();
                for (Iterator<Job> i = active.iterator(); i.hasNext();) {
                    if (report(i.next())) {
                        i.remove();
                        inFlight.decrementAndGet();
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            // the model failed: every waiting request hears it rather than waiting for ever
            RuntimeException error = e instanceof RuntimeException r ? r : new IllegalStateException(e);
            active.forEach(j -> j.events.add(new Event(0, "", null, 0, 0, error)));
            queue.forEach(j -> j.events.add(new Event(0, "", null, 0, 0, error)));
            closing = true;
        }
    }

    /** Starts a job's sequences; a bad prompt is an error event, and false. */
    private boolean start(Job job) {
        job.sequences = new Sampler.Sequence[job.n];
        job.ended = new boolean[job.n];
        try {
            for (int i = 0; i < job.n; i++) {
                job.sequences[i] = sampler.start(job.prompt, tokenizer, job.options, job.options.seed() + i, 1);
            }
        } catch (RuntimeException e) {
            for (Sampler.Sequence q : job.sequences) {
                if (q != null) {
                    sampler.cancel(q);
                }
            }
            job.events.add(new Event(0, "", null, 0, 0, e));
            inFlight.decrementAndGet();
            return false;
        }
        if (report(job)) {
            inFlight.decrementAndGet(); // nothing to generate (max_tokens 0)
            return false;
        }
        return true;
    }

    /** Sends each sequence's new text; returns whether the job is over. */
    private boolean report(Job job) {
        for (int i = 0; i < job.n; i++) {
            Sampler.Sequence q = job.sequences[i];
            if (job.ended[i]) {
                continue;
            }
            String finish = q.finishReason();
            String delta = q.pollText();
            if (!delta.isEmpty()) {
                job.events.add(new Event(i, delta, null, 0, 0, null));
            }
            if (finish != null) {
                job.events.add(new Event(i, "", finish, q.promptTokens(), q.generatedTokens(), null));
                job.ended[i] = true;
                job.finished++;
            }
        }
        return job.finished == job.n;
    }

    /** Requests cancelled while generating (their clients left). */
    int cancelled() {
        return cancelled.get();
    }

    /** Takes no more jobs, finishes those queued and running, then stops. */
    @Override
    public void close() {
        closing = true;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
