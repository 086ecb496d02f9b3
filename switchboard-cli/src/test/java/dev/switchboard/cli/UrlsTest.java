package dev.switchboard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class UrlsTest {

    @Test
    void escapesWhatIsNotATopicName() {
        assertThat(Urls.pathSegment("chat.room-1_A~")).isEqualTo("chat.room-1_A~");
        assertThat(Urls.pathSegment("a/b c?")).isEqualTo("a%2Fb%20c%3F");
        assertThat(Urls.pathSegment("\u00e9")).isEqualTo("%C3%A9");
    }
}
