package dev.switchboard.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class TopicNameTest {

    @ParameterizedTest
    @ValueSource(strings = {"a", "Z", "0", "_", "-", "chat", "chat.room-1", "A_b-9.c.D", "a.b.c.d.e", "--.__", "x9.y8"})
    void acceptsSegmentsOfLettersDigitsUnderscoreAndDashJoinedByDots(String name) {
        assertThat(TopicName.isValid(name)).isTrue();
        assertThat(TopicName.validate(name)).isSameAs(name);
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {".", "..", ".a", "a.", "a..b", "a b", " a", "a/b", "a*", "a>", "a:b", "é", "a\u0000",
            "a\nb", "ä.b", "a%2Fb", "a.b.", "a+b", "a,b"})
    void refusesAnythingElseWith400(String name) {
        assertThat(TopicName.isValid(name)).isFalse();
        assertThatThrownBy(() -> TopicName.validate(name)).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.code()).isEqualTo("invalid_topic");
        });
    }

    @Test
    void lengthIsLimitedTo255Chars() {
        String max = "a".repeat(255);
        String dotted = ("abcd.".repeat(51)).substring(0, 254) + "z";
        assertThat(dotted).hasSize(255);
        assertThat(TopicName.isValid(max)).isTrue();
        assertThat(TopicName.isValid(dotted)).isTrue();
        assertThat(TopicName.isValid(max + "a")).isFalse();
        assertThat(TopicName.isValid("b." + max)).isFalse();
    }

    @Test
    void theErrorMessageAbbreviatesLongInput() {
        String huge = "!".repeat(10_000);
        assertThatThrownBy(() -> TopicName.validate(huge)).isInstanceOf(ApiException.class)
                .message().hasSizeLessThan(300).contains("!".repeat(64) + "...");
    }
}
