package dev.switchboard.broker;

/**
 * Hears of changes to one topic, after they are readable. Calls come from the engine's thread, one at a time and in
 * order, and must not block: a commit's calls are {@link #appended} for each new message in offset order, then
 * {@link #committed} once; retention adds {@link #truncated}, followed by {@link #committed} when it happens outside a
 * commit (a new retention, messages growing old).
 */
public interface TopicWatcher {
    /** A new message, readable now. */
    void appended(Message message);

    /** Offsets before {@code firstOffset} were dropped by retention. */
    void truncated(long firstOffset);

    /** The end of one commit's changes to this topic: the moment to wake readers, once. */
    void committed();

    /** The topic was deleted; no call follows. */
    void deleted();

    /** A watcher that only needs to know the topic changed: {@code changed} runs after each commit and on deletion. */
    static TopicWatcher onChange(Runnable changed) {
        return new TopicWatcher() {
            @Override
            public void appended(Message message) {}

            @Override
            public void truncated(long firstOffset) {}

            @Override
            public void committed() {
                changed.run();
            }

            @Override
            public void deleted() {
                changed.run();
            }
        };
    }
}
