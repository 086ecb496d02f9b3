package dev.switchboard.log;

import dev.switchboard.broker.Message;
import dev.switchboard.broker.PublishResult;
import dev.switchboard.broker.Transaction;
import dev.switchboard.wire.ApiException;
import io.micrometer.core.instrument.Counter;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * A plain publish, the hot path: one staged message, acknowledged after the commit on the event loop that asked for
 * it (with the other answers of that commit for the same loop). Threads: created by the publisher, then the writer.
 */
final class PublishTransaction implements Transaction {
    private final String topic;
    private final String type;
    private final byte[] payload;
    private final String key;
    private final CompletableFuture<PublishResult> done;
    private final Counter replayed;
    private final LoopAnswers answers;
    private final Executor origin = EventLoops.current();
    private PublishResult result;

    PublishTransaction(String topic, String type, byte[] payload, String key,
                       CompletableFuture<PublishResult> done, Counter replayed, LoopAnswers answers) {
        this.topic = topic;
        this.type = type;
        this.payload = payload;
        this.key = key;
        this.done = done;
        this.replayed = replayed;
        this.answers = answers;
    }

    @Override
    public void stage(Stage stage) {
        if (key != null) {
            result = ((StagedCommit) stage).appendOnce(topic, type, payload, key);
        } else {
            Message m = stage.append(topic, type, payload);
            result = new PublishResult(m.topic(), m.offset(), m.time(), false);
        }
    }

    @Override
    public void committed() {
        if (result.replayed()) {
            replayed.increment();
        }
        PublishResult stored = result;
        answers.post(origin, () -> done.complete(stored));
    }

    @Override
    public void failed(ApiException error) {
        done.completeExceptionally(error);
    }
}
