package dev.switchboard.browser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.Chromium;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A real browser's {@code EventSource} and {@code WebSocket} against the server: headless Chromium loads a page from
 * another origin (so CORS is exercised: the EventSource is cross-origin and every report is a preflighted
 * {@code fetch}) which subscribes to a topic both ways, publishes one message over the WebSocket and reports everything
 * it receives back to the server on a results topic. The test reads the reports with long polls: no sleeps.
 *
 * <p>Midway the server restarts. The EventSource must reconnect by itself and resume after its {@code Last-Event-ID};
 * the page reconnects its WebSocket from the offset after the last it saw. Every message must arrive exactly once per
 * transport, in offset order, with its payload intact.
 */
@Slow
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class BrowserClientsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOPIC = "browser.feed";
    private static final String RESULTS = "browser.results";
    private static final Duration PHASE_TIMEOUT = Duration.ofSeconds(60);
    private static final String BROWSER_PAYLOAD = "{\"from\":\"browser\",\"text\":\"published by the page ✓\"}";

    private TestServer server;
    private PageServer pages;
    private Chromium chromium;
    private final SortedMap<Long, Published> expected = new TreeMap<>();
    private final Map<Integer, JsonNode> reports = new LinkedHashMap<>(); // by the page's report number
    private long resultsNext = 1;

    private record Published(String type, byte[] payload) {}

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

    @Test
    void eventSourceAndWebSocketInChromiumDeliverEverythingOnceInOrderAcrossARestart() {
        pages = PageServer.start();
        server = TestServer.start(c -> c.withCorsOrigins(List.of(pages.origin()))); // the page is on another origin

        // Already in the log when the browser connects: delivered as catch-up.
        publishText("hello, browser");
        publishText("line one\nline two\r\nline three\rline four");
        publish("application/json", """
                {
                  "text": "pretty-printed JSON spans lines",
                  "n": [1, 2, 3],
                  "nested": {"ü": "✓"}
                }""".getBytes(StandardCharsets.UTF_8));
        publishText("\n leading space, a : colon, data: and id: inside\n\nafter a blank line\n");
        publishText("héllo ☃ 😀");
        publish("application/octet-stream", new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, (byte) 0x80});
        publishText("");

        chromium = Chromium.launch(PHASE_TIMEOUT);
        String pageUrl = pages.url("clients.html", "server=" + URLEncoder.encode(server.url(), StandardCharsets.UTF_8)
                + "&topic=" + TOPIC + "&results=" + RESULTS);
        assertThat(pageUrl).doesNotStartWith(server.url()); // another origin: CORS applies
        chromium.open(pageUrl);

        awaitReports("the EventSource to open and the WebSocket to subscribe",
                r -> count(r, "sse-open") >= 1 && count(r, "ws-open") >= 1);

        // Published while both are connected: delivered live. The large one needs a 64-bit WebSocket frame length.
        StringBuilder large = new StringBuilder();
        for (int i = 0; large.length() < 100_000; i++) {
            large.append("line ").append(i).append(" of a large message ").append("x".repeat(i % 50)).append('\n');
        }
        publishText(large.toString());
        publishText("live after connect");

        awaitReports("the browser's publish to be acked, and every message so far on both transports",
                r -> ack(r) != null && everythingArrived(r, Math.max(expected.lastKey(), ack(r).path("offset").asLong())));
        JsonNode ack = ack(reports.values());
        assertThat(ack.path("id").asText()).isEqualTo("browser-1");
        assertThat(ack.path("topic").asText()).isEqualTo(TOPIC);
        long browserOffset = ack.path("offset").asLong();
        assertThat(expected).doesNotContainKey(browserOffset);
        expected.put(browserOffset, new Published("application/json", BROWSER_PAYLOAD.getBytes(StandardCharsets.UTF_8)));
        assertDeliveries();
        long beforeRestart = expected.lastKey();

        // The server closes every stream; the EventSource reconnects with Last-Event-ID, the page's WebSocket with from=.
        server.restart();
        publishText("after restart, maybe before the browser reconnects");
        publishText("after restart\ntwo");
        awaitReports("the EventSource and the WebSocket to reconnect after the restart",
                r -> count(r, "sse-open") >= 2 && count(r, "ws-open") >= 2);
        publishText("after the browser reconnected");

        awaitReports("every message on both transports after the restart", r -> everythingArrived(r, expected.lastKey()));
        assertDeliveries();
        assertThat(count(reports.values(), "sse-open")).as("EventSource opens").isEqualTo(2);
        List<JsonNode> wsOpens = of(reports.values(), "ws-open");
        assertThat(wsOpens).extracting(o -> o.path("from").asText())
                .containsExactly("earliest", Long.toString(beforeRestart + 1));
        assertThat(wsOpens).extracting(o -> o.path("next").asLong()).containsExactly(1L, beforeRestart + 1);
        assertThat(reports.values()).as("unexpected events (gap, error, …)")
                .allMatch(r -> List.of("sse", "ws", "ack", "sse-open", "ws-open").contains(r.path("via").asText()));
    }

    /**
     * Every message published so far arrived once on each transport, in offset order, as the browser's API presents
     * it: EventSource joins {@code data:} lines with LF and reports the {@code id:} as {@code lastEventId}; the
     * WebSocket gets the JSON envelope.
     */
    private void assertDeliveries() {
        List<Long> all = LongStream.rangeClosed(1, expected.lastKey()).boxed().toList();
        assertThat(expected.keySet()).as("offsets published").containsExactlyElementsOf(all);

        List<JsonNode> sse = of(reports.values(), "sse");
        assertThat(sse).extracting(r -> r.path("n").asInt()).as("EventSource events in order of arrival")
                .containsExactlyElementsOf(LongStream.rangeClosed(1, sse.size()).mapToInt(i -> (int) i).boxed().toList());
        assertThat(sse).extracting(r -> Long.parseLong(r.path("id").asText())).as("EventSource lastEventId per event")
                .containsExactlyElementsOf(all);
        for (JsonNode r : sse) {
            long offset = Long.parseLong(r.path("id").asText());
            assertThat(r.path("data").asText()).as("EventSource data of offset %d", offset)
                    .isEqualTo(asEventSourceData(expected.get(offset)));
        }

        List<JsonNode> ws = of(reports.values(), "ws");
        assertThat(ws).extracting(r -> r.path("n").asInt()).as("WebSocket messages in order of arrival")
                .containsExactlyElementsOf(LongStream.rangeClosed(1, ws.size()).mapToInt(i -> (int) i).boxed().toList());
        assertThat(ws).extracting(r -> r.path("msg").path("offset").asLong()).as("WebSocket offsets")
                .containsExactlyElementsOf(all);
        for (JsonNode r : ws) {
            JsonNode msg = r.path("msg");
            long offset = msg.path("offset").asLong();
            Published p = expected.get(offset);
            assertThat(msg.path("topic").asText()).isEqualTo(TOPIC);
            assertThat(msg.path("type").asText()).as("type of offset %d", offset).isEqualTo(p.type());
            assertThat(msg.path("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
            if (p.type().startsWith("application/json")) {
                assertThat(msg.path("data")).as("data of offset %d", offset).isEqualTo(readJson(p.payload()));
            } else if (utf8(p.payload()) != null) {
                assertThat(msg.path("data").asText()).as("data of offset %d", offset).isEqualTo(utf8(p.payload()));
                assertThat(msg.has("encoding")).isFalse();
            } else {
                assertThat(msg.path("encoding").asText()).isEqualTo("base64");
                assertThat(msg.path("data").asText()).isEqualTo(Base64.getEncoder().encodeToString(p.payload()));
            }
        }
    }

    /** What {@code MessageEvent.data} must be: the text with CRLF and CR as LF, or base64 when not UTF-8. */
    private static String asEventSourceData(Published p) {
        String text = utf8(p.payload());
        return text == null ? Base64.getEncoder().encodeToString(p.payload())
                : text.replace("\r\n", "\n").replace('\r', '\n');
    }

    private static boolean everythingArrived(Iterable<JsonNode> r, long lastOffset) {
        return of(r, "sse").stream().anyMatch(e -> e.path("id").asText().equals(Long.toString(lastOffset)))
                && of(r, "ws").stream().anyMatch(e -> e.path("msg").path("offset").asLong() == lastOffset);
    }

    private static JsonNode ack(Iterable<JsonNode> r) {
        List<JsonNode> acks = of(r, "ack");
        return acks.isEmpty() ? null : acks.getFirst().path("ack");
    }

    private static long count(Iterable<JsonNode> r, String via) {
        return of(r, via).size();
    }

    private static List<JsonNode> of(Iterable<JsonNode> r, String via) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode n : r) {
            if (n.path("via").asText().equals(via)) {
                out.add(n);
            }
        }
        return out;
    }

    /** Long-polls the results topic until {@code done} holds for the reports, or fails after the phase timeout. */
    private void awaitReports(String what, Predicate<Iterable<JsonNode>> done) {
        long deadline = System.nanoTime() + PHASE_TIMEOUT.toNanos();
        while (!done.test(reports.values())) {
            long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (remainingMs <= 0) {
                fail("timed out after " + PHASE_TIMEOUT + " waiting for " + what + "\n" + diagnostics());
            }
            long waitMs = Math.max(100, Math.min(10_000, remainingMs));
            HttpRequest poll = HttpRequest.newBuilder(server.uri("/v1/topics/" + RESULTS + "/messages?from="
                    + resultsNext + "&wait=" + waitMs + "ms")).timeout(Duration.ofMillis(waitMs + 10_000)).GET().build();
            HttpResponse<String> res;
            try {
                res = server.http().send(poll, HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                continue; // a pooled connection from before a restart; the deadline bounds retries
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            assertThat(res.statusCode()).as("long poll of the results: %s", res.body()).isEqualTo(200);
            JsonNode body = readJson(res.body().getBytes(StandardCharsets.UTF_8));
            for (JsonNode m : body.path("messages")) {
                JsonNode report = m.path("data");
                reports.putIfAbsent(report.path("r").asInt(), report); // a retried report that was stored twice
            }
            resultsNext = body.path("next").asLong();
        }
    }

    private String diagnostics() {
        Map<String, Long> counts = reports.values().stream()
                .collect(Collectors.groupingBy(r -> r.path("via").asText(), LinkedHashMap::new, Collectors.counting()));
        String last = reports.values().stream().skip(Math.max(0, reports.size() - 5)).map(r -> {
            String s = r.toString();
            return s.length() > 300 ? s.substring(0, 300) + "…" : s;
        }).collect(Collectors.joining("\n  "));
        return "published offsets: " + expected.keySet() + "\nreports by kind: " + counts + "\nlast reports:\n  " + last
                + "\npage notes: " + (chromium == null ? "-" : chromium.evaluate("JSON.stringify(window.diag)"))
                + "\npage log:\n" + (chromium == null ? "-" : chromium.pageLog())
                + "\nchromium output:\n" + (chromium == null ? "-" : chromium.output());
    }

    private void publishText(String text) {
        publish("text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8));
    }

    private void publish(String type, byte[] payload) {
        HttpResponse<String> res = server.send(HttpRequest.newBuilder(server.uri("/v1/topics/" + TOPIC + "/messages"))
                .header("Content-Type", type).POST(HttpRequest.BodyPublishers.ofByteArray(payload)).build());
        assertThat(res.statusCode()).as("publish: %s", res.body()).isEqualTo(201);
        long offset = readJson(res.body().getBytes(StandardCharsets.UTF_8)).path("offset").asLong();
        assertThat(expected.put(offset, new Published(type, payload))).isNull();
    }

    private static JsonNode readJson(byte[] bytes) {
        try {
            return JSON.readTree(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The bytes as text, or null when they are not valid UTF-8. */
    private static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
