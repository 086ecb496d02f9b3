package dev.switchboard.broker;

/**
 * An acknowledged batch: its messages hold the offsets {@code firstOffset..lastOffset} of the topic, in the batch's
 * order, all with the time {@code time}. {@code replayed} is true when an {@code Idempotency-Key} matched an earlier
 * publish, whose range this is.
 */
public record BatchResult(String topic, long firstOffset, long lastOffset, long time, boolean replayed) {
    public int count() {
        return Math.toIntExact(lastOffset - firstOffset + 1);
    }
}
