package dev.switchboard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FromTest {

    @Test
    void parsesKeywordsAndOffsets() {
        assertThat(From.parse("next")).isEqualTo(From.NEXT).matches(From::isNext);
        assertThat(From.parse("earliest")).isEqualTo(From.EARLIEST).matches(f -> !f.isOffset() && !f.isNext());
        assertThat(From.parse("42")).isEqualTo(From.at(42)).matches(From::isOffset);
        assertThat(From.parse("007")).isEqualTo(From.at(7));
    }

    @ParameterizedTest
    @ValueSource(strings = {"next", "earliest", "1", "123456789012345678"})
    void printsItsWireForm(String text) {
        assertThat(From.parse(text)).hasToString(text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "NEXT", "latest", "0", "-1", "+1", "1.5", " 1", "1234567890123456789"})
    void refusesAnythingElse(String text) {
        assertThatThrownBy(() -> From.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }
}
