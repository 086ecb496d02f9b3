package dev.switchboard.loadtest;

import java.util.Map;
import java.util.TreeMap;

/**
 * Checks that one subscriber receives every offset once and in order. The first offset received is where
 * the subscriber starts; {@link #result} later compares that with what the publisher actually published.
 * Offsets skipped over are kept as ranges, so an offset that arrives late is told apart from a duplicate
 * without remembering every offset seen. Used on the subscriber's event-loop thread.
 */
final class OffsetCheck {

    /** Per-subscriber outcome; all zero when delivery was exact. */
    record Result(long missing, long duplicates, long outOfOrder) {
        boolean ok() {
            return missing == 0 && duplicates == 0 && outOfOrder == 0;
        }
    }

    private long first;
    /** The offset expected next, 0 before the first message; read by the main thread to see progress. */
    private volatile long next;
    private long duplicates;
    private long outOfOrder;
    /** Ranges [start, end) skipped so far and not yet received. */
    private final TreeMap<Long, Long> holes = new TreeMap<>();
    private long holeCount;

    void accept(long offset) {
        long expected = next;
        if (expected == 0) {
            first = offset;
            next = offset + 1;
        } else if (offset == expected) {
            next = expected + 1;
        } else if (offset > expected) {
            addHole(expected, offset);
            next = offset + 1;
        } else if (offset < first) {
            addHole(offset + 1, first);
            first = offset;
            outOfOrder++;
        } else if (fillHole(offset)) {
            outOfOrder++;
        } else {
            duplicates++;
        }
    }

    /** Whether every offset up to and including {@code last} has been passed (received or skipped). */
    boolean reached(long last) {
        return next > last;
    }

    /** Compares what arrived with what was published: offsets {@code [firstPublished, lastPublished]}. */
    Result result(long firstPublished, long lastPublished) {
        long missing;
        if (lastPublished < firstPublished) {
            missing = 0;
        } else if (next == 0) {
            missing = lastPublished - firstPublished + 1;
        } else {
            missing = holeCount + Math.max(0, first - firstPublished) + Math.max(0, lastPublished + 1 - next);
        }
        return new Result(missing, duplicates, outOfOrder);
    }

    private void addHole(long start, long end) {
        if (start < end) {
            holes.put(start, end);
            holeCount += end - start;
        }
    }

    private boolean fillHole(long offset) {
        Map.Entry<Long, Long> hole = holes.floorEntry(offset);
        if (hole == null || offset >= hole.getValue()) {
            return false;
        }
        holes.remove(hole.getKey());
        holeCount--;
        if (hole.getKey() < offset) {
            holes.put(hole.getKey(), offset);
        }
        if (offset + 1 < hole.getValue()) {
            holes.put(offset + 1, hole.getValue());
        }
        return true;
    }
}
