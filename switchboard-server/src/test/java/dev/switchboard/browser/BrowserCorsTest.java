package dev.switchboard.browser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.Chromium;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;

/**
 * A page on an origin that {@code --cors-origins} does not allow: headless Chromium must refuse it every preflighted
 * call (so a JSON publish, a DELETE or a PUT never reaches the server), must not let it read responses, and its
 * EventSource must fail. The page reports what happened with a simple request, which is sent whatever the policy.
 */
@Slow
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class BrowserCorsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOPIC = "cors.victim";
    private static final String RESULTS = "cors.results";
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

    /** {@code ""}: no origin may call (the {@code --cors-origins ''} setting); else the one origin allowed. */
    @ParameterizedTest(name = "cors-origins=''{0}''")
    @ValueSource(strings = {"", "http://allowed.example"})
    void aPageFromAnOriginNotAllowedCanNeitherChangeNorReadAnything(String allowed) throws Exception {
        List<String> origins = allowed.isEmpty() ? List.of() : List.of(allowed);
        server = TestServer.start(c -> c.withCorsOrigins(origins));
        assertThat(server.post("/v1/topics/" + TOPIC + "/messages", "text/plain", "one").statusCode()).isEqualTo(201);
        assertThat(server.post("/v1/topics/" + TOPIC + "/messages", "text/plain", "two").statusCode()).isEqualTo(201);

        pages = PageServer.start();
        chromium = Chromium.launch(TIMEOUT);
        chromium.open(pages.url("cors.html", "server=" + URLEncoder.encode(server.url(), StandardCharsets.UTF_8)
                + "&topic=" + TOPIC + "&results=" + RESULTS));

        HttpResponse<String> res = server.send(HttpRequest.newBuilder(server.uri("/v1/topics/" + RESULTS
                + "/messages?from=1&wait=" + TIMEOUT.toSeconds() + "s")).timeout(TIMEOUT.plusSeconds(10)).GET().build());
        assertThat(res.statusCode()).isEqualTo(200);
        JsonNode messages = JSON.readTree(res.body()).path("messages");
        if (messages.isEmpty()) {
            fail("the page reported nothing within " + TIMEOUT + "\npage log:\n" + chromium.pageLog()
                    + "\nchromium output:\n" + chromium.output());
        }
        JsonNode outcome = JSON.readTree(messages.get(0).path("data").asText());

        assertThat(outcome.path("publishJson").asText()).as(outcome.toString()).isEqualTo("refused: TypeError");
        assertThat(outcome.path("delete").asText()).as(outcome.toString()).isEqualTo("refused: TypeError");
        assertThat(outcome.path("putRetention").asText()).as(outcome.toString()).isEqualTo("refused: TypeError");
        assertThat(outcome.path("poll").asText()).as(outcome.toString()).isEqualTo("refused: TypeError");
        assertThat(outcome.path("eventSource").asText()).as(outcome.toString()).isEqualTo("closed");

        // And the server was not changed: the preflights were refused, so the requests themselves were never sent.
        assertThat(server.get("/v1/topics/" + TOPIC + ".leak").statusCode()).as("topic published by the page")
                .isEqualTo(404);
        JsonNode topic = JSON.readTree(server.get("/v1/topics/" + TOPIC).body());
        assertThat(topic.path("lastOffset").asLong()).as("%s", topic).isEqualTo(2);
        assertThat(topic.toString()).as("retention untouched").doesNotContain("\"maxMessages\":1");
    }
}
