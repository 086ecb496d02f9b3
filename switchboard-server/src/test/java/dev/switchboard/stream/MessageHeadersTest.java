package dev.switchboard.stream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.Curl;
import dev.switchboard.testing.RawHttp;
import dev.switchboard.testing.SseParser.Event;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import io.nats.client.impl.Headers;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Message headers across transports (docs/api.md, "Message envelope"): published over HTTP as
 * {@code Switchboard-Header-*} (HTTP/1.1 and HTTP/2, single and batch) or by jnats as HPUB, received by jnats as
 * HMSG, over SSE in envelope format, WebSocket and long polling; refused input stores nothing. Each test uses its own
 * topics.
 */
@Timeout(60)
class MessageHeadersTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(c -> c.withNatsPort(0));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static Connection nats() throws Exception {
        return Nats.connect(new Options.Builder().server(server.natsUrl()).connectionTimeout(WAIT).build());
    }

    private static HttpResponse<String> publish(String path, String type, String body, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri(path)).header("Content-Type", type)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return server.send(b.build());
    }

    private static JsonNode polled(TestServer on, String topic) throws Exception {
        HttpResponse<String> r = on.get("/v1/topics/" + topic + "/messages?from=earliest");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body()).path("messages");
    }

    private static void assertError(HttpResponse<String> r, int status, String code) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(JSON.readTree(r.body()).path("error").path("code").asText()).isEqualTo(code);
    }

    @Test
    void anHttpPublishsHeadersReachNatsSseWebSocketAndLongPoll() throws Exception {
        try (Connection nc = nats();
             HttpClientSse sse = HttpClientSse.open(server.http(),
                     server.uri("/v1/topics/h.all/events?format=envelope"));
             HttpClientSse plain = HttpClientSse.open(server.http(), server.uri("/v1/topics/h.all/events"));
             WsClient ws = WsClient.connect(server, "/v1/ws?subscribe=h.all")) {
            Subscription s = nc.subscribe("h.all");
            nc.flush(WAIT);
            ws.next("subscribed");
            CompletableFuture<HttpResponse<String>> poll = server.http().sendAsync(HttpRequest.newBuilder(
                    server.uri("/v1/topics/h.all/messages?from=1&wait=10s")).GET().build(),
                    HttpResponse.BodyHandlers.ofString());

            HttpResponse<String> r = publish("/v1/topics/h.all/messages", "text/plain", "hello",
                    "Switchboard-Header-Trace-Id", "t-1", "Switchboard-Header-Tag", "a", "switchboard-header-tag", "b",
                    "X-Other", "not a message header");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);

            Message m = s.nextMessage(WAIT);
            assertThat(m.hasHeaders()).isTrue();
            assertThat(m.getHeaders().get("Trace-Id")).containsExactly("t-1");
            assertThat(m.getHeaders().get("Tag")).containsExactly("a", "b");
            assertThat(m.getHeaders().keySet()).containsExactlyInAnyOrder("Trace-Id", "Tag");
            assertThat(new String(m.getData(), StandardCharsets.UTF_8)).isEqualTo("hello");

            JsonNode frame = ws.next("message");
            // The JDK's client sends its headers sorted by name, so the order is not the one given here.
            assertThat(frame.path("headers"))
                    .isEqualTo(JSON.readTree("{\"Tag\":[\"a\",\"b\"],\"Trace-Id\":[\"t-1\"]}"));
            JsonNode polledMessage = JSON.readTree(poll.get(10, TimeUnit.SECONDS).body()).path("messages").get(0);
            assertThat(polledMessage.path("headers")).isEqualTo(frame.path("headers"));

            Awaitility.await().atMost(WAIT).until(() -> !sse.messages().isEmpty() && !plain.messages().isEmpty());
            Event e = sse.messages().getFirst();
            assertThat(e.id()).isEqualTo("1");
            JsonNode envelope = JSON.readTree(e.data());
            assertThat(envelope.path("headers")).isEqualTo(frame.path("headers"));
            assertThat(envelope.path("type").asText()).isEqualTo("text/plain");
            assertThat(envelope.path("data").asText()).isEqualTo("hello");
            assertThat(plain.messages().getFirst().data()).as("the payload format is the payload alone")
                    .isEqualTo("hello");
        }
    }

    @Test
    void natsHeadersReachSseInEnvelopeFormatAndMessagesWithoutHeadersHaveNoField() throws Exception {
        try (Connection nc = nats();
             HttpClientSse sse = HttpClientSse.open(server.http(),
                     server.uri("/v1/topics/h.nats/events?format=envelope"))) {
            nc.publish("h.nats", new Headers().add("Trace-Id", "n-7"),
                    "{\n\"a\": 1\n}".getBytes(StandardCharsets.UTF_8));
            nc.publish("h.nats", "plain".getBytes(StandardCharsets.UTF_8));
            nc.flush(WAIT);
            Awaitility.await().atMost(WAIT).until(() -> sse.messages().size() == 2);
            JsonNode first = JSON.readTree(sse.messages().get(0).data());
            assertThat(first.path("headers").toString()).isEqualTo("{\"Trace-Id\":[\"n-7\"]}");
            assertThat(first.path("offset").asLong()).isEqualTo(1);
            JsonNode second = JSON.readTree(sse.messages().get(1).data());
            assertThat(second.has("headers")).isFalse();
            assertThat(second.path("data").asText()).isEqualTo("plain");
        }
    }

    @Test
    void aBatchsHeadersGoOnEveryMessage() throws Exception {
        try (Connection nc = nats()) {
            Subscription s = nc.subscribe("h.batch");
            nc.flush(WAIT);
            HttpResponse<String> r = publish("/v1/topics/h.batch/batch", "application/x-ndjson",
                    "{\"n\":1}\n{\"n\":2}\n", "Switchboard-Header-Source", "import-3");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            for (int n = 1; n <= 2; n++) {
                Message m = s.nextMessage(WAIT);
                assertThat(m.getHeaders().get("Source")).containsExactly("import-3");
                assertThat(new String(m.getData(), StandardCharsets.UTF_8)).isEqualTo("{\"n\":" + n + "}");
            }
        }
        JsonNode stored = polled(server, "h.batch");
        assertThat(stored).hasSize(2);
        for (JsonNode m : stored) {
            assertThat(m.path("headers").toString()).isEqualTo("{\"Source\":[\"import-3\"]}");
        }
    }

    @Test
    void aWebSocketPublishCarriesHeadersInTheEnvelopesShapeAndBadOnesAreErrors() throws Exception {
        try (Connection nc = nats(); WsClient ws = WsClient.connect(server, "/v1/ws")) {
            Subscription s = nc.subscribe("h.ws");
            nc.flush(WAIT);
            ws.send("{\"op\":\"publish\",\"topic\":\"h.ws\",\"data\":\"x\",\"id\":\"p1\","
                    + "\"headers\":{\"Trace-Id\":[\"w-1\"],\"Tag\":[\"a\",\"b\"]}}");
            assertThat(ws.next("ack").path("offset").asLong()).isEqualTo(1);
            Message m = s.nextMessage(WAIT);
            assertThat(m.getHeaders().get("Tag")).containsExactly("a", "b");
            for (String bad : List.of("\"headers\":[\"a\"]", "\"headers\":{\"T\":\"v\"}", "\"headers\":{\"T\":[1]}",
                    "\"headers\":{\"a b\":[\"v\"]}", "\"headers\":{\"T\":[\"line\\nbreak\"]}")) {
                ws.send("{\"op\":\"publish\",\"topic\":\"h.ws\",\"data\":\"y\",\"id\":\"p2\"," + bad + "}");
                JsonNode error = ws.next("error");
                assertThat(error.path("code").asText()).as(bad).isEqualTo("invalid_headers");
            }
        }
        JsonNode stored = polled(server, "h.ws");
        assertThat(stored).hasSize(1);
        assertThat(stored.get(0).path("headers").toString())
                .isEqualTo("{\"Trace-Id\":[\"w-1\"],\"Tag\":[\"a\",\"b\"]}");
    }

    @Test
    void badHeadersAreRefusedWith400AndStoreNothing() throws Exception {
        assertThat(publish("/v1/topics/h.bad/messages", "text/plain", "kept").statusCode()).isEqualTo(201);
        String[] tooMany = new String[2 * 65];
        for (int i = 0; i < 65; i++) {
            tooMany[2 * i] = "Switchboard-Header-H" + i;
            tooMany[2 * i + 1] = "v";
        }
        assertError(publish("/v1/topics/h.bad/messages", "text/plain", "x", tooMany), 400, "invalid_headers");
        assertError(publish("/v1/topics/h.bad/messages", "text/plain", "x", "Switchboard-Header-Long", "v".repeat(4097)),
                400, "invalid_headers");
        assertError(publish("/v1/topics/h.bad/messages", "text/plain", "x", "Switchboard-Header-" + "n".repeat(129), "v"),
                400, "invalid_headers");
        assertError(publish("/v1/topics/h.bad/batch", "application/json", "[1,2]", tooMany), 400, "invalid_headers");
        String head = "POST /v1/topics/h.bad/messages HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n";
        try (RawHttp raw = new RawHttp(server.port(), 10_000)) {
            RawHttp.Response r = raw.write(head + "Switchboard-Header-: no name\r\n\r\nx").read();
            assertThat(r.status()).as(r.body()).isEqualTo(400);
            assertThat(r.body()).contains("invalid_headers");
        }
        try (RawHttp raw = new RawHttp(server.port(), 10_000)) {
            RawHttp.Response r = raw.write(head + "Switchboard-Header-V: \u00ff\u00fe\r\n\r\nx").read();
            assertThat(r.status()).as(r.body()).isEqualTo(400);
            assertThat(r.body()).contains("invalid_headers").contains("not UTF-8");
        }
        JsonNode stored = polled(server, "h.bad");
        assertThat(stored).hasSize(1);
        assertThat(stored.get(0).has("headers")).isFalse();
        assertThat(server.get("/v1/topics/h.bad/messages?from=earliest").body())
                .as("a message without headers is unchanged").doesNotContain("headers");
    }

    @Test
    void aNatsHpubWithHeadersNoTransportTakesIsRefusedAndStoresNothing() throws Exception {
        try (Connection nc = nats()) {
            nc.publish("h.natsbad", new Headers().add("Big", "v".repeat(4097)), "x".getBytes(StandardCharsets.UTF_8));
            nc.publish("h.natsbad", new Headers().add("not(a)token", "v"), "y".getBytes(StandardCharsets.UTF_8));
            nc.publish("h.natsbad", "fine".getBytes(StandardCharsets.UTF_8));
            nc.flush(WAIT);
        }
        JsonNode stored = polled(server, "h.natsbad");
        assertThat(stored).hasSize(1);
        assertThat(stored.get(0).path("data").asText()).isEqualTo("fine");
    }

    @Test
    void http2LowercasesNamesAndValuesStayUtf8(@TempDir Path dir) throws Exception {
        Path headers = dir.resolve("headers"); // a file: curl sends its bytes as they are, whatever the locale
        Files.writeString(headers, "Content-Type: text/plain\nSwitchboard-Header-Trace-Id: caf\u00e9 \u2615\n");
        List<String> out = Curl.run("--http2-prior-knowledge", "-H", "@" + headers, "--data-binary", "over h2",
                server.url() + "/v1/topics/h.h2/messages");
        assertThat(out.getLast()).isEqualTo("2 201");
        assertThat(polled(server, "h.h2").get(0).path("headers").toString())
                .isEqualTo("{\"trace-id\":[\"caf\u00e9 \u2615\"]}");
        List<String> h1 = Curl.run("--http1.1", "-H", "@" + headers, "--data-binary", "over h1",
                server.url() + "/v1/topics/h.h2/messages");
        assertThat(h1.getLast()).isEqualTo("1.1 201");
        assertThat(polled(server, "h.h2").get(1).path("headers").toString())
                .isEqualTo("{\"Trace-Id\":[\"caf\u00e9 \u2615\"]}");
    }

    @Test
    @Slow // starts a redis-server of its own
    void theRedisEngineStoresHeadersOfPublishesAndBatches() throws Exception {
        try (TestServer redis = TestServer.onRedis(c -> c)) {
            HttpRequest one = HttpRequest.newBuilder(redis.uri("/v1/topics/h.redis/messages"))
                    .header("Content-Type", "text/plain").header("Switchboard-Header-Trace-Id", "r-1")
                    .POST(HttpRequest.BodyPublishers.ofString("one")).build();
            assertThat(redis.send(one).statusCode()).isEqualTo(201);
            HttpRequest batch = HttpRequest.newBuilder(redis.uri("/v1/topics/h.redis/batch"))
                    .header("Content-Type", "application/json").header("Switchboard-Header-Part", "b")
                    .POST(HttpRequest.BodyPublishers.ofString("[2,3]")).build();
            assertThat(redis.send(batch).statusCode()).isEqualTo(201);
            HttpRequest bad = HttpRequest.newBuilder(redis.uri("/v1/topics/h.redis/messages"))
                    .header("Content-Type", "text/plain").header("Switchboard-Header-Big", "v".repeat(4097))
                    .POST(HttpRequest.BodyPublishers.ofString("refused")).build();
            assertError(redis.send(bad), 400, "invalid_headers");
            JsonNode stored = polled(redis, "h.redis");
            assertThat(stored).hasSize(3);
            assertThat(stored.get(0).path("headers").toString()).isEqualTo("{\"Trace-Id\":[\"r-1\"]}");
            assertThat(stored.get(1).path("headers").toString()).isEqualTo("{\"Part\":[\"b\"]}");
            assertThat(stored.get(2).path("headers").toString()).isEqualTo("{\"Part\":[\"b\"]}");
        }
    }
}
