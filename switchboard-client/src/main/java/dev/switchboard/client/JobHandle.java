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
     * {@link Job#finished()}. Follows the job's event topic {@code _jobs.<id>} with a subscription (two threads while
     * it waits), so it rides out lost connections, restarts and failover until the timeout, reported to the
     * {@link ConnectionListener} under that topic.
     */
    Job await(Duration timeout);

    /** {@link #await} without blocking. */
    CompletableFuture<Job> awaitAsync(Duration timeout);

    /**
     * Adds a listener that {@link #await} calls with the job as it first finds it, then with every change (status,
     * progress), in version order, on its delivery thread.
     */
    JobHandle onChange(Consumer<Job> listener);

    /** The result's bytes; a {@link ConflictException} ({@code job_not_succeeded}) unless the job succeeded. */
    byte[] result();

    CompletableFuture<byte[]> resultAsync();

    /** Cancels a queued or running job; a {@link ConflictException} ({@code job_finished}) once finished. */
    Job cancel();

    CompletableFuture<Job> cancelAsync();
}
