package dev.switchboard.client.internal;

import dev.switchboard.client.Job;
import dev.switchboard.client.JobHandle;
import dev.switchboard.wire.Durations;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** A job by id over {@code /v1/jobs/{id}}; waits are long polls on the job's version. */
final class JobHandleImpl implements JobHandle {
    /** Each long poll of {@link #awaitAsync} waits at most this long, so a lost connection is noticed soon. */
    private static final Duration POLL = Duration.ofSeconds(30);

    private final Rest rest;
    private final String id;
    private final String path;
    private final List<Consumer<Job>> listeners = new CopyOnWriteArrayList<>();

    JobHandleImpl(Rest rest, String id) {
        this.rest = rest;
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
        return statusAsync().thenCompose(job -> follow(job, deadline));
    }

    /** Long polls for the version after {@code seen} until the job finishes or the deadline passes. */
    private CompletableFuture<Job> follow(Job seen, long deadline) {
        long left = deadline - System.nanoTime();
        if (seen.finished() || left <= 0) {
            return CompletableFuture.completedFuture(seen);
        }
        Duration wait = Duration.ofMillis(Math.max(1, Math.min(left, POLL.toNanos()) / 1_000_000));
        return get(path + "?wait=" + Durations.format(wait) + "&version=" + seen.version(), wait)
                .thenCompose(job -> {
                    if (job.version() > seen.version()) {
                        listeners.forEach(l -> l.accept(job));
                    }
                    return follow(job, deadline);
                });
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
                j.error(), j.resultType(), j.resultBytes(), result);
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
