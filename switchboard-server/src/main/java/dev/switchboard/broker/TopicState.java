package dev.switchboard.broker;

/**
 * A stored topic's positions and settings. {@code firstOffset > lastOffset} when nothing is retained.
 *
 * @param epoch   changes when a topic is deleted and created again, so a reader holding an offset can tell that it
 *                points into a topic that no longer exists
 * @param created creation time, UTC ms
 */
public record TopicState(String name, long epoch, long firstOffset, long lastOffset, long bytes, long created,
                         Retention retention) {
    /** Messages retained. */
    public long messages() {
        return Math.max(0, lastOffset - firstOffset + 1);
    }
}
