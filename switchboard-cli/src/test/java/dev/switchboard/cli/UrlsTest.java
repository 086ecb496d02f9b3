package dev.switchboard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class UrlsTest {

    @Test
    void webSocketFollowsTheHttpScheme() {
        assertThat(urls("http://127.0.0.1:8080").webSocket()).isEqualTo(URI.create("ws://127.0.0.1:8080/v1/ws"));
        assertThat(urls("https://example.com/").webSocket()).isEqualTo(URI.create("wss://example.com/v1/ws"));
        assertThat(urls("HTTPS://example.com:8443").webSocket()).isEqualTo(URI.create("wss://example.com:8443/v1/ws"));
    }

    @Test
    void keepsAPathPrefix() {
        Urls urls = urls("http://h:1/switchboard/");
        assertThat(urls.webSocket()).isEqualTo(URI.create("ws://h:1/switchboard/v1/ws"));
        assertThat(urls.messages("chat.room-1")).isEqualTo(URI.create("http://h:1/switchboard/v1/topics/chat.room-1/messages"));
    }

    @Test
    void buildsReadUrls() {
        Urls urls = urls("http://h:1");
        assertThat(urls.poll("t", From.at(5), Duration.ofSeconds(30), 100))
                .isEqualTo(URI.create("http://h:1/v1/topics/t/messages?from=5&wait=30000ms&limit=100"));
        assertThat(urls.poll("t", From.NEXT, null, 1)).isEqualTo(URI.create("http://h:1/v1/topics/t/messages?from=next&limit=1"));
        assertThat(urls.events("t", From.EARLIEST)).isEqualTo(URI.create("http://h:1/v1/topics/t/events?from=earliest"));
    }

    @Test
    void escapesWhatIsNotATopicName() {
        assertThat(Urls.pathSegment("chat.room-1_A~")).isEqualTo("chat.room-1_A~");
        assertThat(Urls.pathSegment("a/b c?")).isEqualTo("a%2Fb%20c%3F");
        assertThat(Urls.pathSegment("\u00e9")).isEqualTo("%C3%A9");
    }

    @Test
    void refusesServersThatAreNotHttp() {
        for (String bad : new String[] {"ftp://h", "localhost:8080", "http:relative", "ws://h:1"}) {
            assertThatThrownBy(() -> urls(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    private static Urls urls(String server) {
        ClientOptions client = new ClientOptions();
        client.server = URI.create(server);
        return Urls.of(client);
    }
}
