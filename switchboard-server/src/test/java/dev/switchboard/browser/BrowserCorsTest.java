package dev.switchboard.browser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.Chromium;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;

/**
 * A page on an origin that {@code --cors-origins} does not allow (by default none is): headless Chromium must refuse
 * it every preflighted call (so a JSON publish, a DELETE or a PUT never reaches the server), must not let it read
 * responses, and its EventSource must fail; the server itself must refuse what the browser does send anyway, a simple
 * {@code POST} and a WebSocket upgrade, by their {@code Origin}. The page leaves what happened in
 * {@code window.outcome}, read through DevTools.
 */
@Slow
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class BrowserCorsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOPIC = "cors.victim";
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private TestServer server;
    private PageServer pages;
    private Chromium chromium;

    @AfterEach
    void tearDown() {
        try {
            if (chromium != null) {
                chromium.close();
            }
        } finally {
            try {
                if (pages != null) {
                    pages.close();
                }
            } finally {
                if (server != null) {
                    server.close();
                }
            }
        }
    }

    /** {@code ""}: the default, no origin may call; else the one origin allowed. */
    @ParameterizedTest(name = "cors-origins=''{0}''")
    @ValueSource(strings = {"", "http://allowed.example"})
    void aPageFromAnOriginNotAllowedCanNeitherChangeNorReadAnything(String allowed) throws Exception {
        server = allowed.isEmpty() ? TestServer.start() : TestServer.start(c -> c.withCorsOrigins(List.of(allowed)));
        assertThat(server.post("/v1/topics/" + TOPIC + "/messages", "text/plain", "one").statusCode()).isEqualTo(201);
        assertThat(server.post("/v1/topics/" + TOPIC + "/messages", "text/plain", "two").statusCode()).isEqualTo(201);

        pages = PageServer.start();
        chromium = Chromium.launch(TIMEOUT);
        chromium.open(pages.url("cors.html", "server=" + URLEncoder.encode(server.url(), StandardCharsets.UTF_8)
                + "&topic=" + TOPIC));

        String reported;
        try {
            reported = await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(200))
                    .until(() -> chromium.evaluate("window.outcome || ''"), r -> r.startsWith("{"));
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("the page reported nothing within " + TIMEOUT + "\npage log:\n"
                    + chromium.pageLog() + "\nchromium output:\n" + chromium.output(), e);
        }
        JsonNode outcome = JSON.readTree(reported);

        assertThat(outcome.path("publishJson").asText()).as(outcome.toString()).isEqualTo("refused: TypeError");
        assertThat(outcome.path("delete").asText()).as(outcome.toString()).isEqualTo("refused: TypeError");
        assertThat(outcome.path("putRetention").asText()).as(outcome.toString()).isEqualTo("refused: TypeError");
        assertThat(outcome.path("poll").asText()).as(outcome.toString()).isEqualTo("refused: TypeError");
        assertThat(outcome.path("eventSource").asText()).as(outcome.toString()).isEqualTo("closed");
        assertThat(outcome.path("webSocket").asText()).as(outcome.toString()).isEqualTo("refused");

        // And the server was not changed: the preflights were refused, so those requests were never sent, and the
        // server refused the simple POST and the WebSocket upgrade the browser did send.
        for (String leak : List.of(".leak", ".simple", ".ws")) {
            assertThat(server.get("/v1/topics/" + TOPIC + leak).statusCode()).as("topic published by the page: " + leak)
                    .isEqualTo(404);
        }
        JsonNode topic = JSON.readTree(server.get("/v1/topics/" + TOPIC).body());
        assertThat(topic.path("lastOffset").asLong()).as("%s", topic).isEqualTo(2);
        assertThat(topic.toString()).as("retention untouched").doesNotContain("\"maxMessages\":1");
    }
}
