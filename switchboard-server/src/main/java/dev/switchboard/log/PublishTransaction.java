package dev.switchboard.log;

import dev.switchboard.broker.BatchResult;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.PublishResult;
import io.micrometer.core.instrument.Counter;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A plain publish, the hot path: one staged message, acknowledged after the commit. */
final class PublishTransaction extends AppendTransaction<PublishResult> {
    private final byte[] payload;

    PublishTransaction(String topic, String type, byte[] payload, String key,
                       CompletableFuture<PublishResult> done, Counter replays) {
        super(topic, type, key, done, replays);
        this.payload = payload;
    }

    @Override
    PublishResult stageOn(StagedCommit commit) {
        if (key != null) {
            BatchResult once = commit.appendOnce(topic, type, List.of(payload), key);
            return new PublishResult(once.topic(), once.firstOffset(), once.time(), once.replayed());
        }
        Message m = commit.append(topic, type, payload);
        return new PublishResult(m.topic(), m.offset(), m.time(), false);
    }

    @Override
    boolean replayed(PublishResult result) {
        return result.replayed();
    }
}
