package dev.switchboard.fanout;

import dev.switchboard.broker.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;

/**
 * Runs of consecutive messages, their bytes in one {@link SharedEncoding} laid end to end in one direct buffer, built
 * once per drain of a loop's subscribers and written to every subscriber that reads the same run (docs/architecture.md,
 * "Encode once"). Each subscriber used to copy the same frames into a buffer of its own; now it writes a retained
 * duplicate, so its cost per wake-up no longer grows with the messages in it. Threads: one event loop.
 */
final class SharedRuns {
    /** A run's buffer stops growing here, so a subscriber's writability is checked between chunks of this size. */
    static final int MAX_RUN_BYTES = 32 * 1024;
    /** A message larger than this is not copied into a run: the sink writes its bytes as they are. */
    static final int MAX_MESSAGE_BYTES = 4 * 1024;

    /** {@code count} messages' bytes from offset {@code from} on; the duplicates a sink writes share its memory. */
    record Run(SharedEncoding encoding, long from, int count, ByteBuf bytes) {}

    /** The runs built in this drain; few at once (subscribers mostly stand at the same offset). */
    private final ArrayList<Run> runs = new ArrayList<>(2);

    /**
     * The run of {@code feed}'s messages from {@code from} on in {@code encoding}, at most {@code maxCount} of them,
     * or null when the message at {@code from} cannot start one (not in memory, or too large to copy).
     */
    Run from(TopicFeed feed, SharedEncoding encoding, long from, int maxCount) {
        for (Run r : runs) {
            if (r.from() == from && r.encoding() == encoding && r.count() <= maxCount) {
                return r;
            }
        }
        Run built = build(feed, encoding, from, maxCount);
        if (built != null) {
            runs.add(built);
        }
        return built;
    }

    private static Run build(TopicFeed feed, SharedEncoding encoding, long from, int maxCount) {
        long last = Math.min(feed.lastOffset(), from + maxCount - 1);
        int bytes = 0;
        long end = from;
        for (; end <= last; end++) {
            Message m = feed.cached(end);
            if (m == null) {
                break;
            }
            int length = encoding.bytes(m).length;
            if (length > MAX_MESSAGE_BYTES || bytes + length > MAX_RUN_BYTES) {
                break;
            }
            bytes += length;
        }
        int count = (int) (end - from);
        if (count == 0) {
            return null;
        }
        ByteBuf out = ByteBufAllocator.DEFAULT.directBuffer(bytes, bytes);
        for (long o = from; o < end; o++) {
            // Evicted since measured: the run ends here, its buffer sized for more than it holds.
            Message m = feed.cached(o);
            if (m == null) {
                count = (int) (o - from);
                break;
            }
            out.writeBytes(encoding.bytes(m));
        }
        if (count == 0) {
            out.release();
            return null;
        }
        return new Run(encoding, from, count, out);
    }

    /** The drain is over: the runs live on only in the writes that hold them. */
    void release() {
        for (Run r : runs) {
            r.bytes().release();
        }
        runs.clear();
    }
}
