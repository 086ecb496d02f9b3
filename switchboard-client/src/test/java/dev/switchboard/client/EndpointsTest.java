package dev.switchboard.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

class EndpointsTest {

    @Test
    void webSocketFollowsTheHttpSchemeAndKeepsAPathPrefix() {
        assertThat(Endpoints.webSocket(server("http://127.0.0.1:8080"))).isEqualTo(URI.create("ws://127.0.0.1:8080/v1/ws"));
        assertThat(Endpoints.webSocket(server("https://example.com/"))).isEqualTo(URI.create("wss://example.com/v1/ws"));
        assertThat(Endpoints.webSocket(server("HTTPS://example.com:8443"))).isEqualTo(URI.create("wss://example.com:8443/v1/ws"));
        assertThat(Endpoints.webSocket(server("http://h:1/switchboard/"))).isEqualTo(URI.create("ws://h:1/switchboard/v1/ws"));
        assertThat(Endpoints.resolve(server("http://h:1/switchboard/"), "/v1/topics/t/messages"))
                .isEqualTo(URI.create("http://h:1/switchboard/v1/topics/t/messages"));
    }

    @Test
    void escapesWhatIsNotATopicName() {
        assertThat(Endpoints.segment("chat.room-1_A~")).isEqualTo("chat.room-1_A~");
        assertThat(Endpoints.segment("a/b c?")).isEqualTo("a%2Fb%20c%3F");
        assertThat(Endpoints.segment("\u00e9")).isEqualTo("%C3%A9");
    }

    @Test
    void refusesServersThatAreNotHttp() {
        for (String bad : new String[] {"ftp://h", "localhost:8080", "http:relative", "ws://h:1", "http://h/?q=1"}) {
            assertThatThrownBy(() -> SwitchboardOptions.builder().server(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void aFailureMovesOnToTheNextUrlOnce() {
        Endpoints endpoints = new Endpoints(List.of(URI.create("http://a"), URI.create("http://b")));
        endpoints.failed(URI.create("http://a"));
        endpoints.failed(URI.create("http://a")); // a second caller that saw the same failure
        assertThat(endpoints.current()).isEqualTo(URI.create("http://b"));
        endpoints.failed(URI.create("http://b"));
        assertThat(endpoints.current()).isEqualTo(URI.create("http://a"));
    }

    @Test
    void fromParsesTheWireForms() {
        assertThat(From.parse("next")).isEqualTo(From.next());
        assertThat(From.parse("earliest")).isEqualTo(From.earliest());
        assertThat(From.parse("42")).isEqualTo(From.offset(42));
        for (String bad : new String[] {"0", "-1", "latest", "", "1234567890123456789"}) {
            assertThatThrownBy(() -> From.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    private static URI server(String url) {
        return SwitchboardOptions.builder().server(url).build().servers().get(0);
    }
}
