package dev.switchboard.wire;

import dev.switchboard.wire.ErrorCode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

    @ParameterizedTest
    @CsvSource({
            "500ms, PT0.5S",
            "0ms, PT0S",
            "0s, PT0S",
            "30s, PT30S",
            "2m, PT2M",
            "1h, PT1H",
            "7d, PT168H",
            "007s, PT7S",
            "1500ms, PT1.5S",
            "999999999999ms, PT277777H46M39.999S",
    })
    void parsesANumberAndAUnit(String text, Duration expected) {
        assertThat(Durations.parse(text, "wait")).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({
            "PT0.5S, 500ms",
            "PT0S, 0s",
            "PT30S, 30s",
            "PT90S, 90s",
            "PT2M, 2m",
            "PT1H, 1h",
            "PT25H, 25h",
            "PT168H, 7d",
            "PT1.5S, 1500ms",
            "PT1M0.001S, 60001ms",
    })
    void formatsTheShortestExactText(Duration d, String expected) {
        assertThat(Durations.format(d)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1ms", "999ms", "1s", "59s", "61s", "1m", "59m", "90m", "1h", "23h", "36h", "1d", "30d",
            "365d", "1001ms", "86399999ms", "999999999999ms", "999999999999s", "999999999999m", "999999999999h",
            "106751991d", "106751991167d"})
    void formatInvertsParse(String text) {
        Duration d = Durations.parse(text, "maxAge");
        assertThat(Durations.parse(Durations.format(d), "maxAge")).isEqualTo(d);
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"５s", "5", "s", "ms", "-5s", "+5s", "5 s", " 5s", "5s ", "5S", "5sec", "5ns", "5us", "1.5s",
            "5w", "1y", "1e3ms", "PT5S", "5s5", "1234567890123ms", "0x10s",
            // More milliseconds than a long holds: the log's records and retention work in milliseconds.
            "106751991168d", "999999999999d"})
    void refusesAnythingElseWith400(String text) {
        assertThatThrownBy(() -> Durations.parse(text, "wait")).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DURATION);
            assertThat(e.getMessage()).startsWith("wait must be a duration");
        });
    }
}
