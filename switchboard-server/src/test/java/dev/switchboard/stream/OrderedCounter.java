package dev.switchboard.stream;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** Counts message frames of one topic, checking they come in offset order with no holes; keeps nothing else. */
final class OrderedCounter {
    final List<String> problems = new CopyOnWriteArrayList<>();
    final AtomicLong bytes = new AtomicLong();
    private final long first;
    private final AtomicLong next;

    OrderedCounter() {
        this(1);
    }

    OrderedCounter(long first) {
        this.first = first;
        this.next = new AtomicLong(first);
    }

    /** Wakes {@link #awaitCount} after each frame. */
    synchronized void accept(JsonNode frame) {
        notifyAll();
        String op = frame.path("op").asText();
        if (op.equals("subscribed")) {
            return;
        }
        if (!op.equals("message")) {
            problems.add("unexpected " + frame);
            return;
        }
        long offset = frame.get("offset").asLong();
        if (offset != next.get()) {
            problems.add("expected offset " + next.get() + ", got " + offset);
        }
        next.set(offset + 1);
        bytes.addAndGet(frame.get("data").asText().length());
    }

    /** Waits until at least {@code atLeast} messages came, or a problem was seen; fails after {@code limit}. */
    synchronized void awaitCount(long atLeast, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (count() < atLeast && problems.isEmpty()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("the reader got " + count() + " messages, not " + atLeast + ", in "
                        + limit);
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    long count() {
        return next.get() - first;
    }

    long next() {
        return next.get();
    }

    boolean failed() {
        return !problems.isEmpty();
    }
}
