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
    void coversWhenEveryNameTheOtherMatchesIsMatchedToo() {
        String[][] covered = {{">", "chat.*"}, {">", "a.>"}, {"chat.>", "chat.*"}, {"chat.>", "chat.*.x.>"},
                {"chat.*", "chat.*"}, {"chat.*", "chat.room"}, {"*.*", "chat.*"}, {"chat.*.>", "chat.a.>"},
                {"chat.room", "chat.room"}};
        for (String[] c : covered) {
            assertThat(NamePattern.parse(c[0]).covers(NamePattern.parse(c[1]))).as("%s covers %s", c[0], c[1]).isTrue();
        }
        String[][] notCovered = {{"chat.*", "chat.>"}, {"chat.room", "chat.*"}, {"chat.*", "chat"},
                {"chat.*", "chat.a.b"}, {"chat.>", "chat"}, {"chat.>", ">"}, {"*", "*.*"}, {"chat.a.>", "chat.*.>"},
                {"chat.*.x", "chat.*.*"}, {"other.>", "chat.*"}};
        for (String[] c : notCovered) {
            assertThat(NamePattern.parse(c[0]).covers(NamePattern.parse(c[1]))).as("%s covers %s", c[0], c[1]).isFalse();
        }
    }

    @Test
    void aLeadingWildcardDoesNotReachReservedTopics() {
        assertThat(NamePattern.parse(">").reaches("chat.a")).isTrue();
        assertThat(NamePattern.parse(">").reaches("_jobs.q")).isFalse();
        assertThat(NamePattern.parse("*.*").reaches("_presence.room")).isFalse();
        assertThat(NamePattern.parse("_presence.*").reaches("_presence.room")).isTrue();
    }
}
