package dev.switchboard.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.wire.ApiException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Waiting for an engine's answers in tests. Every future an engine returns must complete: each wait here fails the
 * test after 30 s instead of hanging it.
 */
public final class Answers {
    private static final long LONGEST_WAIT_SECONDS = 30;

    private Answers() {}

    private static <T> T waitFor(CompletableFuture<T> f) throws ExecutionException {
        try {
            return f.get(LONGEST_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("a caller was left waiting: no answer within " + LONGEST_WAIT_SECONDS + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The future's value; what it failed with is thrown (an {@link ApiException} as itself). */
    public static <T> T value(CompletableFuture<T> f) {
        try {
            return waitFor(f);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new CompletionException(e.getCause());
        }
    }

    /** What the future failed with, or null when it succeeded. */
    public static Throwable failureOf(CompletableFuture<?> f) {
        try {
            waitFor(f);
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    /** The refusal the future failed with; fails the test if it succeeded or failed otherwise. */
    public static ApiException refusal(CompletableFuture<?> f) {
        Throwable failure = failureOf(f);
        assertThat(failure).as("refused").isInstanceOf(ApiException.class);
        return (ApiException) failure;
    }

    /** The refusal of a call: thrown at once, or the failure of the future it returned. */
    public static ApiException refusal(Supplier<? extends CompletableFuture<?>> call) {
        CompletableFuture<?> f;
        try {
            f = call.get();
        } catch (ApiException e) {
            return e;
        }
        return refusal(f);
    }

    /** The call is answered, with a value or a refusal (at once or later), and never left waiting. */
    public static void assertAnswered(Supplier<? extends CompletableFuture<?>> call) {
        try {
            failureOf(call.get());
        } catch (ApiException refusedAtOnce) {
            // an answer too
        }
    }
}
