package dev.switchboard.log;

import dev.switchboard.broker.Retention;

/**
 * A topic's durable record, rewritten in the same atomic batch as every append or deletion that changes it, so that
 * after a crash offsets continue where the last acknowledged publish left them (never reused, even when retention
 * has dropped every message).
 *
 * @param firstOffset oldest retained offset; {@code lastOffset + 1} when nothing is retained
 */
public record StoredTopic(long id, String name, long created, Retention retention, long firstOffset, long lastOffset,
                          long bytes) {
    public StoredTopic withOffsets(long first, long last, long newBytes) {
        return new StoredTopic(id, name, created, retention, first, last, newBytes);
    }

    public StoredTopic withRetention(Retention newRetention) {
        return new StoredTopic(id, name, created, newRetention, firstOffset, lastOffset, bytes);
    }
}
