package dev.switchboard.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class NamePatternTest {
    @Test
    void literalMatchesOnlyItself() {
        NamePattern p = NamePattern.parse("chat.room-1");
        assertThat(p.matches("chat.room-1")).isTrue();
        assertThat(p.matches("chat.room-10")).isFalse();
        assertThat(p.matches("chat.room")).isFalse();
        assertThat(p.matches("chat.room-1.x")).isFalse();
        assertThat(p.matches("chat")).isFalse();
    }

    @Test
    void starMatchesExactlyOneSegment() {
        NamePattern p = NamePattern.parse("chat.*.msgs");
        assertThat(p.matches("chat.a.msgs")).isTrue();
        assertThat(p.matches("chat.room_2.msgs")).isTrue();
        assertThat(p.matches("chat.a.b.msgs")).isFalse();
        assertThat(p.matches("chat.msgs")).isFalse();
        assertThat(NamePattern.parse("*").matches("a")).isTrue();
        assertThat(NamePattern.parse("*").matches("a.b")).isFalse();
    }

    @Test
    void greaterThanMatchesOneOrMoreTrailingSegments() {
        NamePattern p = NamePattern.parse("chat.>");
        assertThat(p.matches("chat.a")).isTrue();
        assertThat(p.matches("chat.a.b.c")).isTrue();
        assertThat(p.matches("chat")).isFalse();
        assertThat(p.matches("chatter.a")).isFalse();
        assertThat(NamePattern.parse(">").matches("anything.at.all")).isTrue();
    }

    @Test
    void malformedPatternsAreRefused() {
        for (String bad : new String[] {"", "a..b", ".a", "a.", "a.>.b", "a b", "a/b", "a.*x", "{sub}"}) {
            assertThatThrownBy(() -> NamePattern.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void aPatternCoversAnotherWhenItMatchesEverythingTheOtherCan() {
        assertCovers("chat.>", "chat.*", "chat.a", "chat.a.>", "chat.*.b", "chat.>");
        assertCovers(">", "*", "a.b", "*.>", ">");
        assertCovers("chat.*", "chat.*", "chat.a");
        assertCovers("chat.*.msgs", "chat.*.msgs", "chat.a.msgs");
        assertCovers("chat.a", "chat.a");
        assertNotCovers("chat.*", "chat.>", "chat.a.b", "*.a", "chat", "chat.*.*");
        assertNotCovers("chat.>", "chat", ">", "*.a", "*");
        assertNotCovers("chat.a", "chat.*", "chat.b", "chat.a.b");
        assertNotCovers("*.a", "*.*", "*.>", "chat.b");
    }

    private static void assertCovers(String right, String... patterns) {
        for (String p : patterns) {
            assertThat(NamePattern.parse(right).covers(NamePattern.parse(p))).as("%s covers %s", right, p).isTrue();
        }
    }

    private static void assertNotCovers(String right, String... patterns) {
        for (String p : patterns) {
            assertThat(NamePattern.parse(right).covers(NamePattern.parse(p))).as("%s covers %s", right, p).isFalse();
        }
    }

    @Test
    void wildcardPatternsAreToldFromNames() {
        assertThat(NamePattern.parse("chat.*").isWildcard()).isTrue();
        assertThat(NamePattern.parse(">").isWildcard()).isTrue();
        assertThat(NamePattern.parse("chat.room").isWildcard()).isFalse();
    }
}
