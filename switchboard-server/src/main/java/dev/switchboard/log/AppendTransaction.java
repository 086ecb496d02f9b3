package dev.switchboard.log;

import dev.switchboard.broker.Transaction;
import dev.switchboard.wire.ApiException;
import io.micrometer.core.instrument.Counter;
import java.util.concurrent.CompletableFuture;

/**
 * A client's publish (one message or a batch): staged into a commit, then acknowledged with its result once stored.
 * Threads: the log writer.
 *
 * @param <R> what the publisher is answered
 */
abstract class AppendTransaction<R> implements Transaction {
    final String topic;
    final String type;
    /** The publish's idempotency key, or null. */
    final String key;
    private final CompletableFuture<R> done;
    private final Counter replays;
    private R result;

    AppendTransaction(String topic, String type, String key, CompletableFuture<R> done, Counter replays) {
        this.topic = topic;
        this.type = type;
        this.key = key;
        this.done = done;
        this.replays = replays;
    }

    /** Stages the messages, or finds those stored earlier under the same idempotency key. */
    abstract R stageOn(StagedCommit commit);

    /** Whether {@code result} is an earlier publish's, found by its idempotency key. */
    abstract boolean replayed(R result);

    @Override
    public final void stage(Stage stage) {
        result = stageOn((StagedCommit) stage);
    }

    @Override
    public final void committed() {
        if (replayed(result)) {
            replays.increment();
        }
        done.complete(result);
    }

    @Override
    public final void failed(ApiException error) {
        done.completeExceptionally(error);
    }
}
