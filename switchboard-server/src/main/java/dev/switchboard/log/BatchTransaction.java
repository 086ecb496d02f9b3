package dev.switchboard.log;

import dev.switchboard.broker.BatchResult;
import io.micrometer.core.instrument.Counter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A batch publish: its messages staged together, at contiguous offsets of one commit, so they are stored all or none
 * and readers see them as one change. Threads: the log writer.
 */
final class BatchTransaction extends AppendTransaction<BatchResult> {
    private final List<byte[]> payloads;
    private final Map<String, List<String>> headers;

    BatchTransaction(String topic, String type, List<byte[]> payloads, Map<String, List<String>> headers, String key,
                     CompletableFuture<BatchResult> done, Counter replays) {
        super(topic, type, key, done, replays);
        this.payloads = payloads;
        this.headers = headers;
    }

    @Override
    BatchResult stageOn(StagedCommit commit) {
        return key != null ? commit.appendOnce(topic, type, payloads, headers, key)
                : commit.appendAll(topic, type, payloads, headers);
    }

    @Override
    boolean replayed(BatchResult result) {
        return result.replayed();
    }
}
