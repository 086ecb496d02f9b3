package dev.switchboard.client;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A submitted job, by id: ask for its status, wait for it to finish, follow its progress, fetch its result, cancel it.
 * Holds no connection; thread-safe. Blocking methods throw the {@link SwitchboardException}s of the operation.
 */
public interface JobHandle {
    String id();

    /** The job as the server describes it now. */
    Job status();

    CompletableFuture<Job> statusAsync();

    /**
     * Waits until the job finishes or {@code timeout} passes, and returns it as it is then: check
     * {@link Job#finished()}. Rides out lost connections and failover until the timeout.
     */
    Job await(Duration timeout);

    /** {@link #await} without blocking. */
    CompletableFuture<Job> awaitAsync(Duration timeout);

    /**
     * Adds a listener for the changes {@link #await} sees (status, progress). Called on an HTTP client thread, in
     * version order; a change that came and went between two answers is not seen.
     */
    JobHandle onChange(Consumer<Job> listener);

    /** The result's bytes; a {@link ConflictException} ({@code job_not_succeeded}) unless the job succeeded. */
    byte[] result();

    CompletableFuture<byte[]> resultAsync();

    /** Cancels a queued or running job; a {@link ConflictException} ({@code job_finished}) once finished. */
    Job cancel();

    CompletableFuture<Job> cancelAsync();
}
