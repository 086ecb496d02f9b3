package dev.switchboard.loadtest;

import dev.switchboard.loadtest.Measurements.ErrorKind;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntToLongFunction;

/** The publisher connections of one run: opened one after the other, started together, closed together. */
final class PublisherGroup {
    private final List<Publisher> publishers = new ArrayList<>();
    private final List<Channel> channels = new ArrayList<>();

    /**
     * Connects {@code publisher} and waits until it may publish.
     *
     * @throws IOException if the target cannot be reached or does not accept the publisher in time
     */
    void open(Bootstrap bootstrap, ServerEndpoint server, Publisher publisher) throws IOException, InterruptedException {
        channels.add(ClientIo.connect(bootstrap, server, publisher::initPipeline, FanoutBenchmark.SETUP_TIMEOUT));
        publishers.add(publisher);
        try {
            publisher.ready().get(FanoutBenchmark.SETUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new IOException("publisher not ready on " + server + ": " + cause, cause);
        }
    }

    List<Publisher> publishers() {
        return publishers;
    }

    /**
     * Publishes on every connection from {@code startNanos} until {@code stopNanos} or until connection {@code i}
     * has sent {@code maxMessages(i)}, then waits up to {@code drain} for the last answers; answers still missing
     * then are a publish error.
     */
    void run(Measurements measurements, long startNanos, long stopNanos, IntToLongFunction maxMessages,
             Duration drain) throws InterruptedException {
        for (int i = 0; i < publishers.size(); i++) {
            publishers.get(i).start(startNanos, stopNanos, maxMessages.applyAsLong(i));
        }
        CompletableFuture<Void> done = CompletableFuture.allOf(
                publishers.stream().map(Publisher::done).toArray(CompletableFuture[]::new));
        long waitNanos = stopNanos - System.nanoTime() + drain.toNanos();
        try {
            done.get(Math.max(0, waitNanos), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            measurements.error(ErrorKind.PUBLISH, "publish requests still unanswered " + drain.toSeconds()
                    + " s after publishing stopped");
        } catch (ExecutionException e) {
            throw new IllegalStateException("publisher failed", e.getCause());
        }
    }

    long acked() {
        return publishers.stream().mapToLong(Publisher::acked).sum();
    }

    long measuredAcked() {
        return publishers.stream().mapToLong(Publisher::measuredAcked).sum();
    }

    /**
     * The first offset each source of offsets acknowledged: one for all when they share a log ({@code oneLog}),
     * else one per publisher (peers, where each publisher numbers its own messages).
     */
    long[] firstOffsets(boolean oneLog) {
        return oneLog
                ? new long[] {publishers.stream().mapToLong(Publisher::firstOffset).min().orElse(Long.MAX_VALUE)}
                : publishers.stream().mapToLong(Publisher::firstOffset).toArray();
    }

    /** The last offset each source acknowledged, as {@link #firstOffsets}. */
    long[] lastOffsets(boolean oneLog) {
        return oneLog
                ? new long[] {publishers.stream().mapToLong(Publisher::lastOffset).max().orElse(Long.MIN_VALUE)}
                : publishers.stream().mapToLong(Publisher::lastOffset).toArray();
    }

    void close() {
        channels.forEach(Channel::close);
    }
}
