package dev.switchboard.broker;

import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.TopicNames;

/**
 * Where a reader starts (API.md "from"): {@code next} (only what is published after it joined), {@code earliest}
 * (oldest retained) or an offset N (first message with offset &ge; N).
 */
public sealed interface StartPosition {
    record Next() implements StartPosition {}

    record Earliest() implements StartPosition {}

    record AtOffset(long offset) implements StartPosition {}

    StartPosition NEXT = new Next();
    StartPosition EARLIEST = new Earliest();

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
