package dev.switchboard.fanout;

import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.TopicNames;

/**
 * Where a reader starts (docs/api.md "from"): {@code next} (only what is published after it joined), {@code earliest}
 * (oldest retained) or an offset N (first message with offset &ge; N).
 */
public sealed interface StartPosition {
    record Next() implements StartPosition {}

    record Earliest() implements StartPosition {}

    record AtOffset(long offset) implements StartPosition {}

    StartPosition NEXT = new Next();
    StartPosition EARLIEST = new Earliest();

    /** The first offset a reader starting here wants, given a topic's retained range (it may since be dropped). */
    default long resolve(long firstOffset, long lastOffset) {
        return switch (this) {
            case Next n -> lastOffset + 1;
            case Earliest e -> firstOffset;
            case AtOffset at -> at.offset();
        };
    }

    static StartPosition parse(String text, StartPosition absent) {
        if (text == null || text.isEmpty()) {
            return absent;
        }
        if (text.equals("next")) {
            return NEXT;
        }
        if (text.equals("earliest")) {
            return EARLIEST;
        }
        try {
            // ASCII digits only: Long.parseLong would also take other scripts' digits.
            long n = text.chars().allMatch(c -> c >= '0' && c <= '9') ? Long.parseLong(text) : 0;
            if (n >= 1) {
                return new AtOffset(n);
            }
        } catch (NumberFormatException ignored) {
            // fall through to the error below
        }
        throw new ApiException(ErrorCode.INVALID_FROM,
                "from must be 'next', 'earliest' or an offset >= 1, got '" + TopicNames.abbreviate(text) + "'");
    }
}
