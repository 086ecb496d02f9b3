package dev.switchboard.client;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/** A job by id over {@code /v1/jobs/{id}}; waits follow its event topic. */
final class JobHandleImpl implements JobHandle {
    /** Every change of a job is an event on its topic {@code _jobs.<id>} (docs/api.md, "Jobs"). */
    private static final String EVENTS_PREFIX = "_jobs.";

    private final Rest rest;
    private final Client subscriptions;
    private final String id;
    private final String path;
    private final List<Consumer<Job>> listeners = new CopyOnWriteArrayList<>();

    JobHandleImpl(Rest rest, Client subscriptions, String id) {
        this.rest = rest;
        this.subscriptions = subscriptions;
        this.id = id;
        this.path = "/v1/jobs/" + Endpoints.segment(id);
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public Job status() {
        return Rest.join(statusAsync());
    }

    @Override
    public CompletableFuture<Job> statusAsync() {
        return get(path, Duration.ZERO);
    }

    private CompletableFuture<Job> get(String pathAndQuery, Duration wait) {
        return rest.send(server -> rest.request(server, pathAndQuery).GET(), Rest.Retry.SAFE, wait, 200)
                .thenApply(a -> Json.job(a.body()));
    }

    @Override
    public Job await(Duration timeout) {
        return Rest.join(awaitAsync(timeout));
    }

    @Override
    public CompletableFuture<Job> awaitAsync(Duration timeout) {
        Client.wait(timeout, "timeout");
        long deadline = System.nanoTime() + timeout.toNanos();
        return statusAsync().thenCompose(job -> {
            listeners.forEach(l -> l.accept(job));
            return job.finished() ? CompletableFuture.completedFuture(job) : follow(job, deadline);
        });
    }

    /**
     * Reads the job's event topic after the version already seen: each event carries the job as it became, every
     * change included, and the subscription resumes across reconnects without repeating one.
     */
    private CompletableFuture<Job> follow(Job seen, long deadline) {
        CompletableFuture<Job> result = new CompletableFuture<>();
        AtomicReference<Job> latest = new AtomicReference<>(seen);
        Subscription sub = subscriptions.subscribe(EVENTS_PREFIX + id, From.offset(seen.version() + 1),
                SubscribeOptions.defaults(), m -> {
                    Job job = Json.job(m.data());
                    latest.set(job);
                    listeners.forEach(l -> l.accept(job));
                    if (job.finished()) {
                        result.complete(job);
                    }
                });
        sub.closed().whenComplete((v, failure) -> {
            if (failure != null) {
                result.completeExceptionally(failure);
            }
        });
        CompletableFuture.delayedExecutor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)
                .execute(() -> result.complete(latest.get()));
        // Closed from another thread: closing it on its own delivery thread would not wait for it.
        result.whenCompleteAsync((job, failure) -> sub.close());
        return result;
    }

    @Override
    public JobHandle onChange(Consumer<Job> listener) {
        listeners.add(java.util.Objects.requireNonNull(listener, "listener"));
        return this;
    }

    @Override
    public byte[] result() {
        return Rest.join(resultAsync());
    }

    @Override
    public CompletableFuture<byte[]> resultAsync() {
        return rest.send(server -> rest.request(server, path + "/result").GET(), Rest.Retry.SAFE, Duration.ZERO, 200)
                .thenApply(Rest.Answer::body);
    }

    /** {@code job} with its whole result: the inline one, or fetched when it was too large to be inline. */
    CompletableFuture<Job> withResult(Job job) {
        if (job.result() != null) {
            return CompletableFuture.completedFuture(job);
        }
        if (job.resultBytes() == 0) {
            return CompletableFuture.completedFuture(copy(job, new byte[0]));
        }
        return resultAsync().thenApply(bytes -> copy(job, bytes));
    }

    private static Job copy(Job j, byte[] result) {
        return new Job(j.id(), j.queue(), j.status(), j.attempt(), j.progressPercent(), j.progressMessage(), j.version(),
                j.error(), j.resultType(), j.resultBytes(), result, j.created(), j.updated());
    }

    @Override
    public Job cancel() {
        return Rest.join(cancelAsync());
    }

    @Override
    public CompletableFuture<Job> cancelAsync() {
        return rest.send(server -> rest.request(server, path).DELETE(), Rest.Retry.UNSENT, Duration.ZERO, 200)
                .thenApply(a -> Json.job(a.body()));
    }
}
