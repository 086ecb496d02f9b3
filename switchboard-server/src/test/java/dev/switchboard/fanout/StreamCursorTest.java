package dev.switchboard.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class StreamCursorTest {
    @Test
    void roundTripsEveryTopicsNextOffsetLeavingOutThoseAtOne() {
        SortedMap<String, Long> next = new TreeMap<>();
        next.put("chat.room-1", 42L);
        next.put("chat.room-10", 1L); // absent from the cursor means offset 1
        next.put("chat.room-2", Long.MAX_VALUE);
        next.put("news", 128L);
        String cursor = StreamCursor.encode(next);
        assertThat(cursor).matches("[A-Za-z0-9_-]+");
        SortedMap<String, Long> expected = new TreeMap<>(next);
        expected.remove("chat.room-10");
        assertThat(StreamCursor.decode(cursor)).isEqualTo(expected);
        assertThat(StreamCursor.decode(StreamCursor.encode(new TreeMap<>()))).isEmpty();
    }

    @Test
    void namesUnderOnePatternCostLittleMoreThanTheirOffsets() {
        SortedMap<String, Long> next = new TreeMap<>();
        for (int i = 0; i < 64; i++) {
            next.put("chat.rooms.europe.room-" + (1000 + i), 1_000_000L + i);
        }
        // each: a shared-prefix length, a suffix length, 2 suffix characters, a 3-byte offset: 7 bytes, not ~30
        assertThat(StreamCursor.encode(next).length()).isLessThan(64 * 8 * 4 / 3 + 40);
        assertThat(StreamCursor.decode(StreamCursor.encode(next))).isEqualTo(next);
    }

    @Test
    void followedTopicsAreBoundedByTheLargestCursorTheyCanReach() {
        List<String> topics = new ArrayList<>();
        for (int i = 0; StreamCursor.fits(topics); i++) {
            topics.add("t" + i);
        }
        assertThat(topics.size()).isBetween(100, 400);
        topics.removeLast();
        SortedMap<String, Long> atLargest = new TreeMap<>();
        topics.forEach(t -> atLargest.put(t, Long.MAX_VALUE));
        assertThat(StreamCursor.encode(atLargest).length()).isLessThanOrEqualTo(StreamCursor.MAX_CHARS);
        assertThat(StreamCursor.fits(List.of("a".repeat(255)))).isTrue();
    }

    @Test
    void refusesWhatItNeverIssues() {
        for (String bad : List.of("", "!!", "AgA", "AQMDYWJj", "AQADYWJj", "AQABYgIAAWEC", "AQABYQA",
                "AQABLgI", base64(1, 0, 1, 'a', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
                "A".repeat(StreamCursor.MAX_CHARS + 1))) {
            assertThatThrownBy(() -> StreamCursor.decode(bad)).as("cursor '%s'", bad)
                    .isInstanceOfSatisfying(ApiException.class,
                            e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_FROM));
        }
    }

    private static String base64(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            b[i] = (byte) bytes[i];
        }
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
