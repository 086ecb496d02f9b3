package dev.switchboard.loadtest;

import io.netty.bootstrap.Bootstrap;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/**
 * Many subscriber-like connections, opened with at most {@code window} handshakes in flight so neither the server's
 * accept backlog nor the client's ports are flooded, and closed together.
 */
final class SubscriberGroup {
    /**
     * A server that never sends {@code subscribed} costs this much once. Long enough for a node on a shared engine,
     * whose first subscriber of a topic waits for Redis (docs/cluster.md), on a busy machine: at 1 s a run once
     * started publishing before the replies came, and those subscribers (from {@code next}) began at offset 2.
     */
    private static final Duration SUBSCRIBED_REPLY_WAIT = Duration.ofSeconds(5);

    private final List<Subscriber<?>> subscribers = new ArrayList<>();

    /**
     * Opens {@code total} connections, {@code make} building number {@code i}, and waits until every one is
     * {@link Subscriber#ready ready}; shows progress as "{@code ready/total what}".
     *
     * @throws IOException on the first connection that fails or is not ready within the setup time
     */
    void open(int total, int window, IntFunction<Subscriber<?>> make, Bootstrap bootstrap, ServerEndpoint server,
              ProgressReporter progress, String what) throws IOException, InterruptedException {
        open(total, window, make, bootstrap, i -> server, progress, what);
    }

    /** As {@link #open(int, int, IntFunction, Bootstrap, ServerEndpoint, ProgressReporter, String)}, number
     *  {@code i} connecting to {@code servers.apply(i)}. */
    void open(int total, int window, IntFunction<Subscriber<?>> make, Bootstrap bootstrap,
              IntFunction<ServerEndpoint> servers, ProgressReporter progress, String what)
            throws IOException, InterruptedException {
        Semaphore slots = new Semaphore(window);
        AtomicInteger ready = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        progress.show(() -> "connecting  " + ready.get() + "/" + total + " " + what);
        for (int i = 0; i < total && failure.get() == null; i++) {
            slots.acquire();
            Subscriber<?> subscriber = make.apply(i);
            subscribers.add(subscriber);
            subscriber.ready().orTimeout(FanoutBenchmark.SETUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .whenComplete((ok, e) -> {
                        if (e == null) {
                            ready.incrementAndGet();
                        } else {
                            failure.compareAndSet(null, e);
                        }
                        slots.release();
                    });
            subscriber.connect(bootstrap, servers.apply(i));
        }
        slots.acquire(window);
        progress.stopTicks();
        Throwable e = failure.get();
        if (e != null) {
            String reason = e instanceof TimeoutException
                    ? "not ready within " + FanoutBenchmark.SETUP_TIMEOUT.toSeconds() + " s"
                    : String.valueOf(e.getMessage());
            throw new IOException("connection setup failed (" + ready.get() + "/" + total + " " + what + "): "
                    + reason, e);
        }
    }

    /**
     * The WebSocket handshake already means subscribed; a server that also replies {@code subscribed} may
     * register the subscription only then, so once one reply is seen, all are awaited.
     */
    void awaitSubscribedReplies(Measurements measurements) throws IOException, InterruptedException {
        long start = System.nanoTime();
        while (measurements.subscribeAcks.get() < subscribers.size()) {
            long waited = System.nanoTime() - start;
            if (measurements.subscribeAcks.get() == 0 && waited > SUBSCRIBED_REPLY_WAIT.toNanos()) {
                return;
            }
            if (waited > FanoutBenchmark.SETUP_TIMEOUT.toNanos()) {
                throw new IOException("only " + measurements.subscribeAcks.get() + " of " + subscribers.size()
                        + " subscriptions were confirmed");
            }
            Thread.sleep(10);
        }
    }

    List<Subscriber<?>> subscribers() {
        return subscribers;
    }

    /** Waits until every subscriber has passed {@code last[source]} of each source, or {@code timeout} passes. */
    void awaitReached(long[] last, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int caughtUp = 0;
        while (caughtUp < subscribers.size() && System.nanoTime() < deadline) {
            while (caughtUp < subscribers.size() && reached(subscribers.get(caughtUp), last)) {
                caughtUp++;
            }
            Thread.sleep(1);
        }
    }

    private static boolean reached(Subscriber<?> subscriber, long[] last) {
        for (int source = 0; source < last.length; source++) {
            if (!subscriber.offsets(source).reached(last[source])) {
                return false;
            }
        }
        return true;
    }

    /**
     * Sums every subscriber's check that it got offsets {@code first[source]..last[source]} of each source once, in
     * order; adds up to {@code maxReported} subscribers that did not to {@code failed}. Call once the loops stopped.
     */
    OffsetCheck.Result check(long[] first, long[] last, List<FanoutReport.SubscriberErrors> failed,
                             int maxReported) {
        long missing = 0;
        long duplicates = 0;
        long outOfOrder = 0;
        for (int i = 0; i < subscribers.size(); i++) {
            long m = 0;
            long d = 0;
            long o = 0;
            for (int source = 0; source < first.length; source++) {
                OffsetCheck.Result r = subscribers.get(i).offsets(source).result(first[source], last[source]);
                m += r.missing();
                d += r.duplicates();
                o += r.outOfOrder();
            }
            missing += m;
            duplicates += d;
            outOfOrder += o;
            if (m + d + o > 0 && failed.size() < maxReported) {
                failed.add(new FanoutReport.SubscriberErrors(i, m, d, o));
            }
        }
        return new OffsetCheck.Result(missing, duplicates, outOfOrder);
    }

    /** Closes every connection, waiting at most {@code timeout}; says on {@code err} if some did not close. */
    void close(Duration timeout, PrintWriter err) throws InterruptedException {
        List<CompletableFuture<Void>> closed = new ArrayList<>();
        subscribers.forEach(s -> closed.add(s.close()));
        try {
            CompletableFuture.allOf(closed.toArray(CompletableFuture[]::new))
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            err.println("some connections did not close within " + timeout.toSeconds() + " s");
        }
    }
}
