package dev.switchboard.broker;

import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
    void aTopicResolvesEachPositionAgainstItsOffsets() {
        Topic t = new Topic("t", Retention.UNLIMITED, (topic, from, max, bytes) -> null,
                new dev.switchboard.log.TailCache(16, 1024, new dev.switchboard.log.TailBudget(Long.MAX_VALUE)));
        t.loaded(1, 0, 5, 9, 100, Retention.UNLIMITED);
        assertThat(t.resolve(StartPosition.NEXT)).isEqualTo(10);
        assertThat(t.resolve(StartPosition.EARLIEST)).isEqualTo(5);
        assertThat(t.resolve(new StartPosition.AtOffset(2))).as("a dropped offset is kept; the read reports a gap")
                .isEqualTo(2);
        assertThat(t.resolve(new StartPosition.AtOffset(100))).isEqualTo(100);
    }
}
