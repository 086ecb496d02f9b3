package dev.switchboard.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Numbers read from arrays and from buffers alike, up to a long's limits (overflow is checked only past 18 digits). */
class AsciiTest {
    @ParameterizedTest
    @ValueSource(longs = {0, 7, -42, 123456789012345678L, 1234567890123456789L, Long.MAX_VALUE, -Long.MAX_VALUE})
    void readsANumberUpToAnyNonDigit(long value) {
        byte[] text = (value + " rest").getBytes(StandardCharsets.US_ASCII);
        assertThat(Ascii.parseLong(text, 0, text.length)).isEqualTo(value);
        assertThat(Ascii.parseLong(Unpooled.wrappedBuffer(text), 0)).isEqualTo(value);
    }

    @ParameterizedTest
    @ValueSource(strings = {"9223372036854775808", "10000000000000000000", "99999999999999999999"})
    void refusesANumberPastALong(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> Ascii.parseLong(bytes, 0, bytes.length)).isInstanceOf(NumberFormatException.class);
        assertThatThrownBy(() -> Ascii.parseLong(Unpooled.wrappedBuffer(bytes), 0))
                .isInstanceOf(NumberFormatException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-", "x1"})
    void refusesTextWithoutADigit(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> Ascii.parseLong(bytes, 0, bytes.length)).isInstanceOf(NumberFormatException.class);
    }
}
