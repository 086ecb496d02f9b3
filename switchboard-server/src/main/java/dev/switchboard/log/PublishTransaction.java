package dev.switchboard.log;

import dev.switchboard.broker.BatchResult;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.PublishResult;
import io.micrometer.core.instrument.Counter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** A plain publish, the hot path: one staged message, acknowledged after the commit. */
final class PublishTransaction extends AppendTransaction<PublishResult> {
    private final byte[] payload;
    private final Map<String, List<String>> headers;

    PublishTransaction(String topic, String type, byte[] payload, Map<String, List<String>> headers, String key,
                       CompletableFuture<PublishResult> done, Counter replays) {
        super(topic, type, key, done, replays);
        this.payload = payload;
        this.headers = headers;
    }

    @Override
    PublishResult stageOn(StagedCommit commit) {
        if (key != null) {
            BatchResult once = commit.appendOnce(topic, type, List.of(payload), headers, key);
            return new PublishResult(once.topic(), once.firstOffset(), once.time(), once.replayed());
        }
        Message m = commit.append(topic, type, payload, headers);
        return new PublishResult(m.topic(), m.offset(), m.time(), false);
    }

    @Override
    boolean replayed(PublishResult result) {
        return result.replayed();
    }
}
