package dev.switchboard.engine.redis;

import dev.switchboard.wire.ApiException;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Redis engine's ordered write path: changes are issued in submission order by one writer thread, on one
 * connection, so Redis runs them in that order; their answers complete on the engine's answer thread.
 */
final class RedisWriter {
    private static final Logger log = LoggerFactory.getLogger(RedisWriter.class);
    /** How long a round of changes may wait for its replicas before it is refused. */
    static final Duration REPLICA_WAIT = Duration.ofSeconds(1);
    /** Changes issued in one round, which one {@code WAIT} covers. */
    private static final int ROUND = 1024;

    private final RedisClusterAsyncCommands<String, byte[]> redis;
    private final ExecutorService answers;
    private final BlockingQueue<Work> queue;
    private final Thread writer;
    private volatile boolean closed;
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Writer-only: the last command issued; answers come in order, so once it is answered all earlier ones are. */
    private volatile CompletableFuture<?> lastIssued = CompletableFuture.completedFuture(null);
    /** Replicas that must hold a change before it is acknowledged ({@code WAIT}); 0: none. */
    private final int waitReplicas;
    /**
     * Writer-only: how many replicas hold the changes of the round being issued, once the round's {@code WAIT}
     * answers; null without {@link #waitReplicas}.
     */
    private CompletableFuture<Long> replicated;

    /** A change waiting for the writer; refused with {@code unavailable} when the engine closes first. */
    interface Work {
        void run();

        void refuse(ApiException why);
    }

    RedisWriter(RedisClusterAsyncCommands<String, byte[]> redis, ExecutorService answers, int waitReplicas,
                int maxPending, MeterRegistry metrics) {
        this.redis = redis;
        this.answers = answers;
        this.waitReplicas = waitReplicas;
        this.queue = new LinkedBlockingQueue<>(maxPending);
        Gauge.builder("switchboard.redis.commands.inflight", inFlight, AtomicInteger::get)
                .description("Changes sent to Redis and not yet answered").register(metrics);
        this.writer = Thread.ofPlatform().name("switchboard-redis-writer").start(this::writeLoop);
    }

    /** Changes sent to Redis and not yet answered. */
    int inFlight() {
        return inFlight.get();
    }

    /** Queues a change for the writer; its answer is parsed by {@code answer} (which may throw a refusal). */
    <R, T> CompletableFuture<T> issue(Supplier<CompletableFuture<R>> command, Function<R, T> answer) {
        CompletableFuture<T> done = new CompletableFuture<>();
        enqueue(new Work() {
            @Override
            public void run() {
                issueNow(command, answer).whenComplete((v, e) -> {
                    if (e == null) {
                        done.complete(v);
                    } else {
                        done.completeExceptionally(RedisBroker.unavailable(e));
                    }
                });
            }

            @Override
            public void refuse(ApiException why) {
                answers.execute(() -> done.completeExceptionally(why));
            }
        });
        return done;
    }

    /** On the writer: sends the command now; the future completes on the answer thread. */
    <R, T> CompletableFuture<T> issueNow(Supplier<CompletableFuture<R>> command, Function<R, T> answer) {
        inFlight.incrementAndGet();
        CompletableFuture<R> sent;
        try {
            sent = command.get();
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        lastIssued = sent;
        CompletableFuture<R> stored = sent.whenComplete((r, e) -> inFlight.decrementAndGet());
        if (replicated != null) {
            stored = stored.thenCombine(replicated, (r, replicas) -> {
                if (replicas < waitReplicas) {
                    // Stored on the primary, not known to be on enough replicas: a retry with the same
                    // Idempotency-Key stores it once.
                    throw ApiException.unavailable("the change reached " + replicas + " of the " + waitReplicas
                            + " Redis replicas required within " + REPLICA_WAIT.toMillis() + " ms; retry shortly");
                }
                return r;
            });
        }
        return stored.thenApplyAsync(answer, answers);
    }

    void enqueue(Work work) {
        if (closed) {
            throw RedisBroker.closedRefusal();
        }
        if (!queue.offer(work)) {
            throw ApiException.unavailable("too many changes waiting for Redis; retry shortly");
        }
        if (closed && queue.remove(work)) {
            throw RedisBroker.closedRefusal(); // closed meanwhile: the writer may not see it any more
        }
    }

    /**
     * Issues what is queued in rounds; with {@link #waitReplicas}, one {@code WAIT} after each round covers all of
     * its changes (a group commit for replication: one replica round trip per round, not per change).
     */
    private void writeLoop() {
        List<Work> round = new ArrayList<>(ROUND);
        while (!closed) {
            try {
                Work first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                round.add(first);
            } catch (InterruptedException e) {
                break;
            }
            queue.drainTo(round, ROUND - 1);
            CompletableFuture<?> issuedBefore = lastIssued;
            replicated = waitReplicas > 0 ? new CompletableFuture<>() : null;
            for (Work work : round) {
                try {
                    work.run();
                } catch (RuntimeException e) {
                    log.error("a change for Redis failed on the writer", e);
                    work.refuse(RedisBroker.unavailable(e));
                }
            }
            round.clear();
            if (replicated != null) {
                waitForReplicas(replicated, lastIssued != issuedBefore);
                replicated = null;
            }
        }
        refuseWaiting();
    }

    private void waitForReplicas(CompletableFuture<Long> round, boolean anythingIssued) {
        if (!anythingIssued) {
            round.complete((long) waitReplicas);
            return;
        }
        CompletableFuture<Long> wait;
        try {
            wait = redis.waitForReplication(waitReplicas, REPLICA_WAIT.toMillis()).toCompletableFuture();
        } catch (RuntimeException e) {
            wait = CompletableFuture.failedFuture(e);
        }
        lastIssued = wait;
        wait.whenComplete((replicas, e) -> {
            if (e == null) {
                round.complete(replicas);
            } else {
                round.completeExceptionally(e);
            }
        });
    }

    /**
     * Stops the writer once every change issued is answered (one stored must not be reported lost, so the connection
     * may close only after this), and refuses the changes still waiting.
     */
    void close() {
        closed = true;
        try {
            writer.join(10_000);
            lastIssued.handle((v, e) -> null).get(RedisBroker.COMMAND_TIMEOUT.toMillis() * 2,
                    TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("closing with changes still unanswered by Redis", e);
        }
        refuseWaiting();
    }

    private void refuseWaiting() {
        for (Work w; (w = queue.poll()) != null; ) {
            w.refuse(RedisBroker.closedRefusal());
        }
    }
}
