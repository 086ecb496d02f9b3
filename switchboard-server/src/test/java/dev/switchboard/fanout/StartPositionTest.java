package dev.switchboard.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StartPositionTest {

    @Test
    void absentMeansTheCallersDefault() {
        assertThat(StartPosition.parse(null, StartPosition.EARLIEST)).isSameAs(StartPosition.EARLIEST);
        assertThat(StartPosition.parse("", StartPosition.NEXT)).isSameAs(StartPosition.NEXT);
    }

    @Test
    void namedPositions() {
        assertThat(StartPosition.parse("next", StartPosition.EARLIEST)).isEqualTo(StartPosition.NEXT);
        assertThat(StartPosition.parse("earliest", StartPosition.NEXT)).isEqualTo(StartPosition.EARLIEST);
    }

    @Test
    void offsetsFromOne() {
        assertThat(StartPosition.parse("1", StartPosition.NEXT)).isEqualTo(new StartPosition.AtOffset(1));
        assertThat(StartPosition.parse("42", StartPosition.NEXT)).isEqualTo(new StartPosition.AtOffset(42));
        assertThat(StartPosition.parse(String.valueOf(Long.MAX_VALUE), StartPosition.NEXT))
                .isEqualTo(new StartPosition.AtOffset(Long.MAX_VALUE));
    }

    @ParameterizedTest
    @ValueSource(strings = {"４２", "0", "-1", "-42", "NEXT", "Earliest", "latest", "first", "abc", "1.5", " 1", "1 ", "1e3",
            "9223372036854775808", "99999999999999999999", "0x10"})
    void refusesAnythingElseWith400(String text) {
        assertThatThrownBy(() -> StartPosition.parse(text, StartPosition.NEXT))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_FROM);
                });
    }

    @Test
    void eachPositionResolvesAgainstATopicsRetainedRange() {
        assertThat(StartPosition.NEXT.resolve(5, 9)).isEqualTo(10);
        assertThat(StartPosition.EARLIEST.resolve(5, 9)).isEqualTo(5);
        assertThat(new StartPosition.AtOffset(2).resolve(5, 9)).as("a dropped offset is kept; the read reports a gap")
                .isEqualTo(2);
        assertThat(new StartPosition.AtOffset(100).resolve(5, 9)).isEqualTo(100);
        assertThat(StartPosition.NEXT.resolve(1, 0)).as("a topic with nothing yet").isEqualTo(1);
    }
}
