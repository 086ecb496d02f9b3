package dev.switchboard.browser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.Chromium;
import dev.switchboard.testing.Closer;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Headless Chromium's own {@code EventSource} on one stream over a topic and a pattern ({@code GET /v1/events}),
 * from a page of another origin, across a restart of the server: the browser reconnects by itself and sends the last
 * event's id, the stream's cursor, as {@code Last-Event-ID}, which resumes every topic at once. Every message of
 * every topic (also of topics created after the page connected, and while the server was down) must arrive exactly
 * once, in order per topic.
 */
@Slow
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class BrowserStreamsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration PHASE_TIMEOUT = Duration.ofSeconds(60);

    @RegisterExtension
    final Closer closer = new Closer();
    private TestServer server;
    private Chromium chromium;
    /** What was published, in order: topic and offset → payload. */
    private final Map<String, String> expected = new LinkedHashMap<>();

    @Test
    void oneEventSourceOverATopicAndAPatternGetsEverythingOnceInOrderAcrossARestart() {
        PageServer pages = closer.add(PageServer.start());
        server = closer.add(TestServer.start(c -> c.withCorsOrigins(List.of(pages.origin()))));
        publish("feed", "before 1");
        publish("chat.x", "before 2");
        publish("feed", "before 3");

        chromium = closer.add(Chromium.launch(PHASE_TIMEOUT)); // closed first
        chromium.open(pages.url("streams.html", "server=" + URLEncoder.encode(server.url(), StandardCharsets.UTF_8)
                + "&topic=feed&topic=" + URLEncoder.encode("chat.*", StandardCharsets.UTF_8)));
        awaitEverything("the catch-up");

        publish("chat.y", "live, on a topic created after the page connected");
        publish("feed", "live 2");
        publish("chat.x", "live 3");
        awaitEverything("the live messages");

        server.restart();
        publish("chat.x", "while the browser reconnects 1");
        publish("chat.z", "while the browser reconnects 2, a new topic");
        publish("feed", "while the browser reconnects 3");
        await().atMost(PHASE_TIMEOUT).until(() -> chromium.evaluate("window.opens").equals("2"));
        publish("chat.y", "after the reconnect");
        awaitEverything("every message after the restart");

        assertThat(chromium.evaluate("window.opens")).as("EventSource opens").isEqualTo("2");
        assertThat(chromium.evaluate("JSON.stringify(window.other)")).as("gap or error events").isEqualTo("[]");
    }

    /** Waits until the page got as many messages as were published, then checks each arrived once, in order. */
    private void awaitEverything(String what) {
        await(what).atMost(PHASE_TIMEOUT).until(() -> got().size() >= expected.size());
        List<JsonNode> got = got();
        Map<String, String> seen = new LinkedHashMap<>();
        Map<String, Long> lastOffset = new LinkedHashMap<>();
        for (JsonNode e : got) {
            JsonNode envelope = e.path("envelope");
            String topic = envelope.path("topic").asText();
            long offset = envelope.path("offset").asLong();
            assertThat(e.path("id").asText()).as("the event's id, a cursor").matches("[A-Za-z0-9_-]+");
            assertThat(offset).as("offsets of %s in order, none repeated", topic)
                    .isEqualTo(lastOffset.getOrDefault(topic, 0L) + 1);
            lastOffset.put(topic, offset);
            seen.put(topic + "@" + offset, envelope.path("data").asText());
        }
        assertThat(got).hasSize(expected.size());
        assertThat(seen).isEqualTo(expected);
    }

    private List<JsonNode> got() {
        String text = chromium.evaluate("JSON.stringify(window.got)");
        try {
            List<JsonNode> out = new ArrayList<>();
            JSON.readTree(text).forEach(out::add);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("the page's messages: " + text, e);
        }
    }

    private void publish(String topic, String text) {
        HttpResponse<String> res = server.send(HttpRequest.newBuilder(server.uri("/v1/topics/" + topic + "/messages"))
                .header("Content-Type", "text/plain; charset=utf-8")
                .POST(HttpRequest.BodyPublishers.ofString(text)).build());
        assertThat(res.statusCode()).as("publish: %s", res.body()).isEqualTo(201);
        try {
            expected.put(topic + "@" + JSON.readTree(res.body()).path("offset").asLong(), text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
