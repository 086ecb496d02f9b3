package dev.switchboard.codec;

import dev.switchboard.auth.Grants;
import dev.switchboard.auth.NamePattern;
import dev.switchboard.fanout.StartPosition;
import dev.switchboard.fanout.StreamCursor;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.TopicNames;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * What a stream over many topics reads ({@code GET /v1/events} and {@code GET /v1/messages}, docs/api.md "Streams
 * over many topics"): topics named exactly, patterns ({@code *} one segment, {@code >} the rest, auth's
 * {@link NamePattern}), and where each topic starts: from the stream's cursor when it resumes, else from
 * {@code from}. Checked whole before anything starts: a refused request changes nothing.
 */
public final class StreamTopics {
    /** Topics and patterns one stream may name. */
    public static final int MAX_NAMES = 64;

    private final SortedSet<String> exact;
    private final List<NamePattern> patterns;
    private final SortedMap<String, Long> cursor;
    private final StartPosition from;
    private final Grants grants;

    private StreamTopics(SortedSet<String> exact, List<NamePattern> patterns, SortedMap<String, Long> cursor,
                         StartPosition from, Grants grants) {
        this.exact = exact;
        this.patterns = patterns;
        this.cursor = cursor;
        this.from = from;
        this.grants = grants;
    }

    /**
     * @param names  the {@code topic=} parameters: topic names and patterns
     * @param cursor a cursor the stream issued ({@code Last-Event-ID}, {@code cursor=}), or null; wins over from
     * @param from   the {@code from=} parameter, or null for {@code absent}
     * @throws ApiException {@code invalid_topic} (also a bad pattern), {@code invalid_from} (also a bad cursor),
     *                      {@code limit_exceeded}, {@code forbidden}
     */
    public static StreamTopics parse(List<String> names, String cursor, String from, StartPosition absent,
                                     Grants grants) {
        if (names.isEmpty()) {
            throw new ApiException(ErrorCode.INVALID_TOPIC, "name at least one topic or pattern: ?topic=a&topic=b.*");
        }
        if (names.size() > MAX_NAMES) {
            throw new ApiException(ErrorCode.LIMIT_EXCEEDED, "a stream names at most " + MAX_NAMES
                    + " topics and patterns, got " + names.size());
        }
        SortedSet<String> exact = new TreeSet<>();
        List<NamePattern> patterns = new ArrayList<>();
        for (String name : names) {
            NamePattern p;
            try {
                p = NamePattern.parse(name);
            } catch (IllegalArgumentException e) {
                throw new ApiException(ErrorCode.INVALID_TOPIC, "'" + TopicNames.abbreviate(name)
                        + "' is neither a topic name nor a pattern of segments, '*' (one segment) and '>' (the rest)");
            }
            if (TopicNames.isPattern(name)) {
                grants.requireSubscribeAll(p);
                patterns.add(p);
            } else {
                TopicNames.validate(name);
                grants.requireSubscribe(name);
                exact.add(name);
            }
        }
        if (!StreamCursor.fits(exact)) {
            throw new ApiException(ErrorCode.LIMIT_EXCEEDED, "the cursor of these topics could grow past "
                    + StreamCursor.MAX_CHARS + " characters: name fewer or shorter topics");
        }
        SortedMap<String, Long> resumed = cursor == null || cursor.isBlank() ? null : StreamCursor.decode(cursor.trim());
        return new StreamTopics(exact, patterns, resumed, StartPosition.parse(from, absent), grants);
    }

    public SortedSet<String> exact() {
        return exact;
    }

    public boolean hasPatterns() {
        return !patterns.isEmpty();
    }

    /**
     * Topics the patterns add: reached by one ({@link NamePattern#reaches}: a leading wildcard does not reach reserved
     * topics), readable by the caller, not named exactly (those are followed as such).
     */
    public Predicate<String> matchedByPatterns() {
        return topic -> {
            if (exact.contains(topic) || !grants.maySubscribe(topic)) {
                return false;
            }
            for (NamePattern p : patterns) {
                if (p.reaches(topic)) {
                    return true;
                }
            }
            return false;
        };
    }

    /**
     * Where a topic starts: its cursor entry when the stream resumes (offset 1 when the cursor lacks it: a topic
     * created after the cursor was issued), else {@code from}; for {@code from=next} a pattern's topic starts where
     * the pattern found it ({@code found}: the end of a topic already there, the first offset of a new one).
     *
     * @param found null for a topic named exactly
     */
    public StartPosition startOf(String topic, StartPosition found) {
        if (cursor != null) {
            return new StartPosition.AtOffset(cursor.getOrDefault(topic, 1L));
        }
        return found != null && from instanceof StartPosition.Next ? found : from;
    }
}
