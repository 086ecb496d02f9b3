package dev.switchboard.wire;

import dev.switchboard.wire.ErrorCode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class TopicNamesTest {

    @ParameterizedTest
    @ValueSource(strings = {"a", "Z", "0", "_", "-", "chat", "chat.room-1", "A_b-9.c.D", "a.b.c.d.e", "--.__", "x9.y8"})
    void acceptsSegmentsOfLettersDigitsUnderscoreAndDashJoinedByDots(String name) {
        assertThat(TopicNames.isValid(name)).isTrue();
        assertThat(TopicNames.validate(name)).isSameAs(name);
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {".", "..", ".a", "a.", "a..b", "a b", " a", "a/b", "a*", "a>", "a:b", "é", "a\u0000",
            "a\nb", "ä.b", "a%2Fb", "a.b.", "a+b", "a,b"})
    void refusesAnythingElseWith400(String name) {
        assertThat(TopicNames.isValid(name)).isFalse();
        assertThatThrownBy(() -> TopicNames.validate(name)).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_TOPIC);
        });
    }

    @Test
    void lengthIsLimitedTo255Chars() {
        String max = "a".repeat(255);
        String dotted = ("abcd.".repeat(51)).substring(0, 254) + "z";
        assertThat(dotted).hasSize(255);
        assertThat(TopicNames.isValid(max)).isTrue();
        assertThat(TopicNames.isValid(dotted)).isTrue();
        assertThat(TopicNames.isValid(max + "a")).isFalse();
        assertThat(TopicNames.isValid("b." + max)).isFalse();
    }

    @Test
    void theErrorMessageAbbreviatesLongInput() {
        String huge = "!".repeat(10_000);
        assertThatThrownBy(() -> TopicNames.validate(huge)).isInstanceOf(ApiException.class)
                .message().hasSizeLessThan(300).contains("!".repeat(64) + "...");
    }

    @ParameterizedTest
    @ValueSource(strings = {"*", ">", "chat.*", "chat.>", "*.room", ">.x", "a.*.b"})
    void aWildcardSegmentMakesAPattern(String text) {
        assertThat(TopicNames.isPattern(text)).isTrue();
        assertThat(TopicNames.isValid(text)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"chat", "chat.room-1", "a.b.c"})
    void aNameIsNoPattern(String name) {
        assertThat(TopicNames.isPattern(name)).isFalse();
    }
}
