package dev.switchboard.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PayloadsTest {
    private static final DateTimeFormatter ISO_MILLIS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    @Test
    void formatTimeAgreesWithTheFormatterInAndAcrossSeconds() {
        long[] edges = {0, 1, 999, 1000, 1001, -1, -999, -1000, -1001, 1_764_979_200_000L, 1_764_979_200_999L,
                253_402_300_799_999L}; // the epoch from both sides, a day's start and end, 9999-12-31T23:59:59.999Z
        for (long millis : edges) {
            assertFormatted(millis);
        }
        SplittableRandom random = new SplittableRandom(42);
        long now = System.currentTimeMillis();
        for (int i = 0; i < 10_000; i++) {
            // Runs inside one second (the cached prefix) and jumps between far-apart ones (a new prefix).
            long millis = i % 100 == 0 ? random.nextLong(0, 4_000_000_000_000L) : now + random.nextLong(-1500, 1500);
            assertFormatted(millis);
        }
    }

    @Test
    void isUtf8AcceptsAsciiAndWellFormedSequencesAndRefusesMalformedOnesWhereverTheyStart() {
        assertThat(Payloads.isUtf8(new byte[0])).isTrue();
        assertThat(Payloads.isUtf8("plain ascii {\"n\":1}".getBytes(StandardCharsets.US_ASCII))).isTrue();
        assertThat(Payloads.isUtf8("ascii, then é € \uD83D\uDE00".getBytes(StandardCharsets.UTF_8))).isTrue();
        byte[][] malformed = {
            {(byte) 0xC3}, // a lead byte without its continuation
            {(byte) 0xC0, (byte) 0xAF}, // overlong '/'
            {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, // an encoded surrogate
            {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // above U+10FFFF
            {(byte) 0x80}, // a lone continuation byte
        };
        for (byte[] bad : malformed) {
            assertThat(Payloads.isUtf8(bad)).as("%s", HexFormat.of().formatHex(bad)).isFalse();
            byte[] afterAscii = new byte[bad.length + 3];
            afterAscii[0] = 'a';
            afterAscii[1] = 'b';
            afterAscii[2] = 'c';
            System.arraycopy(bad, 0, afterAscii, 3, bad.length);
            assertThat(Payloads.isUtf8(afterAscii)).as("abc then %s", HexFormat.of().formatHex(bad))
                    .isFalse();
        }
    }

    private static void assertFormatted(long millis) {
        String expected = ISO_MILLIS.format(Instant.ofEpochMilli(millis));
        assertThat(Payloads.formatTime(millis)).as("%d", millis).isEqualTo(expected);
        if (expected.length() == Payloads.TIME_LENGTH) { // writeTime is for the years 0000-9999 only, like the API's
            byte[] written = new byte[Payloads.TIME_LENGTH + 2];
            assertThat(Payloads.writeTime(millis, written, 1)).isEqualTo(Payloads.TIME_LENGTH + 1);
            assertThat(new String(written, 1, Payloads.TIME_LENGTH, StandardCharsets.US_ASCII)).as("%d", millis)
                    .isEqualTo(expected);
        }
    }
}
