package dev.switchboard.http;

import static dev.switchboard.http.Wire.assertError;
import static dev.switchboard.http.Wire.describe;
import static dev.switchboard.http.Wire.json;
import static dev.switchboard.http.Wire.publishText;
import static dev.switchboard.http.Wire.put;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testing.TestServer;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Malformed and oversized input on every endpoint: each gets a clear JSON error (or, for broken framing, a 400 or a
 * close), changes nothing that is stored, and leaves the server serving. Runs against one server with a small
 * message limit (1024 bytes) and a short header timeout.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BadInputTest {
    private static final int MAX_BODY = 1024;
    /** A stored topic the bad requests aim at; must be exactly as it was after each. */
    private static final String EXISTS = "bad-input.exists";
    /** A topic that does not exist; must still not exist after each bad request. */
    private static final String ABSENT = "bad-input.absent";

    private static TestServer server;
    private String before;
    private Wire.Raw bystander;

    @BeforeAll
    static void start() {
        server = TestServer.start(cfg -> cfg.withLimits(
                Wire.withHeaderTimeout(cfg.limits().withMaxMessageBytes(MAX_BODY), Duration.ofSeconds(1))));
        publishText(server, EXISTS, "one");
        publishText(server, EXISTS, "two");
        assertThat(put(server, "/v1/topics/" + EXISTS, "{\"maxMessages\":100}").statusCode()).isEqualTo(200);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** What is stored, as the list shows it (offsets, counts, bytes, retention of every topic). */
    private static String stored() {
        HttpResponse<String> r = server.get("/v1/topics");
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    @BeforeEach
    void snapshot() {
        before = stored();
        assertThat(json(before).get("topics")).hasSize(1);
        // A keep-alive connection opened before the bad input: it must still be served after it.
        bystander = new Wire.Raw(server.port(), 5000);
        assertThat(bystander.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").read().status()).isEqualTo(200);
    }

    @AfterEach
    void nothingChangedAndStillServing() {
        try {
            assertThat(stored()).as("stored topics after the bad request").isEqualTo(before);
            assertThat(describe(server, ABSENT)).as(ABSENT + " must not exist").isNull();
            JsonNode exists = describe(server, EXISTS);
            assertThat(exists.get("lastOffset").asLong()).isEqualTo(2);
            assertThat(exists.get("retention")).isEqualTo(json("{\"maxMessages\":100}"));
            assertThat(server.get("/healthz").statusCode()).isEqualTo(200);
            assertThat(bystander.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").read().status()).isEqualTo(200);
        } finally {
            bystander.close();
        }
    }

    // ---- the table ----

    record Case(String name, String method, String path, Map<String, String> headers, byte[] body, int status,
                String code) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final class Cases {
        final List<Case> all = new ArrayList<>();

        Cases add(String name, String method, String path, int status, String code) {
            return add(name, method, path, Map.of(), "", status, code);
        }

        Cases add(String name, String method, String path, Map<String, String> headers, String body, int status,
                  String code) {
            return add(name, method, path, headers, body.getBytes(StandardCharsets.UTF_8), status, code);
        }

        Cases add(String name, String method, String path, Map<String, String> headers, byte[] body, int status,
                  String code) {
            all.add(new Case(name, method, path, headers, body, status, code));
            return this;
        }
    }

    private static final Map<String, String> JSON_TYPE = Map.of("Content-Type", "application/json");
    private static final Map<String, String> TEXT_TYPE = Map.of("Content-Type", "text/plain");

    static Stream<Case> refused() {
        Cases c = new Cases();
        String t = "/v1/topics/";
        String longName = "a".repeat(256);
        Map<String, String> badNames = new LinkedHashMap<>();
        badNames.put("bang", "bad!");
        badNames.put("empty segment", "a..b");
        badNames.put("256 chars", longName);
        badNames.put("trailing dot", "a.");
        badNames.put("leading dot", ".a");
        badNames.put("space", "a%20b");
        badNames.put("non-ascii", "caf%C3%A9");
        badNames.put("slash-star", "a*");
        badNames.forEach((what, name) -> {
            c.add("publish to topic name " + what, "POST", t + name + "/messages", TEXT_TYPE, "x", 400,
                    "invalid_topic");
            c.add("short poll of topic name " + what, "GET", t + name + "/messages?from=1", 400, "invalid_topic");
            c.add("long poll of topic name " + what, "GET", t + name + "/messages?wait=1s", 400, "invalid_topic");
            c.add("describe topic name " + what, "GET", t + name, 400, "invalid_topic");
            c.add("retention of topic name " + what, "PUT", t + name, JSON_TYPE, "{\"maxMessages\":1}", 400,
                    "invalid_topic");
            c.add("delete topic name " + what, "DELETE", t + name, 400, "invalid_topic");
            c.add("events of topic name " + what, "GET", t + name + "/events", 400, "invalid_topic");
        });
        c.add("publish to the empty topic name", "POST", t + "/messages", TEXT_TYPE, "x", 400, "invalid_topic");
        c.add("websocket shortcut with a bad topic name", "GET", "/v1/ws?subscribe=ok,bad!", 400, "invalid_topic");
        c.add("websocket shortcut with a bad from", "GET", "/v1/ws?subscribe=ok&from=0", 400, "invalid_from");
        c.add("plain GET of the websocket endpoint", "GET", "/v1/ws", 400, "invalid_upgrade");
        c.add("websocket upgrade without a key", "GET", "/v1/ws",
                Map.of("Sec-WebSocket-Version", "13"), "", 400, "invalid_upgrade");

        String messages = t + EXISTS + "/messages";
        String absentMessages = t + ABSENT + "/messages";
        for (String query : List.of("from=0", "from=abc", "from=-1", "from=1.5", "from=99999999999999999999",
                "from=NEXT")) {
            c.add("poll " + query, "GET", messages + "?" + query, 400, "invalid_from");
            c.add("long poll " + query, "GET", absentMessages + "?wait=1s&" + query, 400, "invalid_from");
        }
        for (String query : List.of("limit=0", "limit=100000", "limit=x", "limit=-5", "limit=1001",
                "limit=99999999999")) {
            c.add("poll " + query, "GET", messages + "?" + query, 400, "invalid_limit");
            c.add("long poll " + query, "GET", absentMessages + "?wait=1s&" + query, 400, "invalid_limit");
        }
        for (String query : List.of("wait=5x", "wait=10m", "wait=6m", "wait=", "wait=1.5s", "wait=-1s", "wait=s",
                "wait=1000000000000ms", "wait=30", "wait=30S")) {
            c.add("long poll " + query, "GET", messages + "?from=next&" + query, 400, "invalid_duration");
            c.add("long poll of an absent topic " + query, "GET", absentMessages + "?" + query, 400,
                    "invalid_duration");
        }
        c.add("repeated from", "GET", messages + "?from=1&from=2", 400, "invalid_query");
        c.add("repeated wait", "GET", absentMessages + "?wait=1s&wait=2s", 400, "invalid_query");
        c.add("events from=0", "GET", t + EXISTS + "/events?from=0", 400, "invalid_from");
        c.add("events with a bad Last-Event-ID", "GET", t + EXISTS + "/events",
                Map.of("Last-Event-ID", "x"), "", 400, "invalid_from");

        for (String topic : List.of(EXISTS, ABSENT)) {
            String path = t + topic + "/messages";
            c.add("invalid JSON to " + topic, "POST", path, JSON_TYPE, "{\"a\":", 400, "invalid_json");
            c.add("not JSON at all to " + topic, "POST", path, JSON_TYPE, "hello", 400, "invalid_json");
            c.add("empty JSON body to " + topic, "POST", path, JSON_TYPE, "", 400, "invalid_json");
            c.add("two JSON values to " + topic, "POST", path, JSON_TYPE, "{} {}", 400, "invalid_json");
            c.add("trailing garbage after JSON to " + topic, "POST", path, JSON_TYPE, "[1,2]x", 400, "invalid_json");
            c.add("invalid +json to " + topic, "POST", path, Map.of("Content-Type", "application/problem+json"),
                    "{nope}", 400, "invalid_json");
            c.add("JSON with charset param to " + topic, "POST", path,
                    Map.of("Content-Type", "Application/JSON; charset=utf-8"), "{'single':1}", 400, "invalid_json");
            // Valid JSON in another encoding than UTF-8 would be embedded verbatim in UTF-8 envelopes.
            c.add("JSON in UTF-16LE to " + topic, "POST", path, JSON_TYPE, new byte[] {0x7B, 0x00, 0x7D, 0x00}, 400,
                    "invalid_json");
            c.add("JSON in UTF-16BE with a BOM to " + topic, "POST", path, JSON_TYPE,
                    new byte[] {(byte) 0xFE, (byte) 0xFF, 0x00, 0x5B, 0x00, 0x5D}, 400, "invalid_json");
            c.add("JSON in UTF-32 to " + topic, "POST", path, JSON_TYPE,
                    new byte[] {0x00, 0x00, 0x00, 0x31}, 400, "invalid_json");
            c.add("JSON with a UTF-8 BOM to " + topic, "POST", path, JSON_TYPE,
                    new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, 0x7B, 0x7D}, 400, "invalid_json");
            c.add("JSON string with invalid UTF-8 to " + topic, "POST", path, JSON_TYPE,
                    new byte[] {'"', (byte) 0xC3, 0x28, '"'}, 400, "invalid_json");
            c.add("body over the limit to " + topic, "POST", path, TEXT_TYPE, "x".repeat(MAX_BODY + 1), 413,
                    "payload_too_large");
            c.add("body far over the limit to " + topic, "POST", path, TEXT_TYPE, "x".repeat(50_000), 413,
                    "payload_too_large");
            c.add("Idempotency-Key over 255 chars to " + topic, "POST", path,
                    Map.of("Idempotency-Key", "k".repeat(256), "Content-Type", "text/plain"), "x", 400,
                    "invalid_idempotency_key");
            c.add("empty Idempotency-Key to " + topic, "POST", path,
                    Map.of("Idempotency-Key", "", "Content-Type", "text/plain"), "x", 400, "invalid_idempotency_key");
            c.add("content type over 255 chars to " + topic, "POST", path,
                    Map.of("Content-Type", "text/" + "x".repeat(260)), "x", 400, "invalid_type");
            c.add("oversized headers to " + topic, "POST", path,
                    Map.of("X-Padding", "p".repeat(20_000), "Content-Type", "text/plain"), "x", 431,
                    "headers_too_large");
            c.add("request line too long to " + topic, "POST", path + "?pad=" + "p".repeat(9000), TEXT_TYPE, "x",
                    414, "uri_too_long");

            String topicPath = t + topic;
            c.add("retention with an unknown field on " + topic, "PUT", topicPath, JSON_TYPE,
                    "{\"maxMessages\":5,\"maxSize\":1}", 400, "invalid_retention");
            c.add("negative maxMessages on " + topic, "PUT", topicPath, JSON_TYPE, "{\"maxMessages\":-1}", 400,
                    "invalid_retention");
            c.add("zero maxMessages on " + topic, "PUT", topicPath, JSON_TYPE, "{\"maxMessages\":0}", 400,
                    "invalid_retention");
            c.add("fractional maxMessages on " + topic, "PUT", topicPath, JSON_TYPE, "{\"maxMessages\":1.5}", 400,
                    "invalid_retention");
            c.add("huge maxMessages on " + topic, "PUT", topicPath, JSON_TYPE,
                    "{\"maxMessages\":99999999999999999999999}", 400, "invalid_retention");
            c.add("negative maxBytes on " + topic, "PUT", topicPath, JSON_TYPE, "{\"maxBytes\":-10}", 400,
                    "invalid_retention");
            c.add("maxBytes as a string on " + topic, "PUT", topicPath, JSON_TYPE, "{\"maxBytes\":\"10\"}", 400,
                    "invalid_retention");
            c.add("maxAge x on " + topic, "PUT", topicPath, JSON_TYPE, "{\"maxAge\":\"x\"}", 400,
                    "invalid_duration");
            c.add("maxAge as a number on " + topic, "PUT", topicPath, JSON_TYPE, "{\"maxAge\":60}", 400,
                    "invalid_duration");
            c.add("maxAge beyond what milliseconds can count on " + topic, "PUT", topicPath, JSON_TYPE,
                    "{\"maxAge\":\"999999999999d\"}", 400, "invalid_duration");
            c.add("maxAge 0s on " + topic, "PUT", topicPath, JSON_TYPE, "{\"maxAge\":\"0s\"}", 400,
                    "invalid_duration");
            c.add("a valid field then a bad one on " + topic, "PUT", topicPath, JSON_TYPE,
                    "{\"maxMessages\":1,\"maxAge\":\"soon\"}", 400, "invalid_duration");
            c.add("retention as an array on " + topic, "PUT", topicPath, JSON_TYPE, "[1]", 400,
                    "invalid_retention");
            c.add("retention as null on " + topic, "PUT", topicPath, JSON_TYPE, "null", 400, "invalid_retention");
            c.add("empty retention body on " + topic, "PUT", topicPath, JSON_TYPE, "", 400, "invalid_retention");
            c.add("retention not JSON on " + topic, "PUT", topicPath, JSON_TYPE, "maxMessages=1", 400,
                    "invalid_json");
            c.add("retention body over the limit on " + topic, "PUT", topicPath, JSON_TYPE,
                    "{\"maxMessages\":1" + " ".repeat(MAX_BODY) + "}", 413, "payload_too_large");
        }

        c.add("unknown path", "GET", "/nope", 404, "not_found");
        c.add("unknown v1 path", "GET", "/v1", 404, "not_found");
        c.add("unknown topic sub-resource", "GET", t + EXISTS + "/nope", 404, "not_found");
        c.add("too deep under messages", "GET", t + EXISTS + "/messages/1", 404, "not_found");
        c.add("publish to an unknown path", "POST", "/v1/topic/" + ABSENT + "/messages", TEXT_TYPE, "x", 404,
                "not_found");
        c.add("DELETE on messages", "DELETE", t + EXISTS + "/messages", 405, "method_not_allowed");
        c.add("PUT on messages", "PUT", t + EXISTS + "/messages", TEXT_TYPE, "x", 405, "method_not_allowed");
        c.add("POST to a topic", "POST", t + ABSENT, TEXT_TYPE, "x", 405, "method_not_allowed");
        c.add("PATCH a topic", "PATCH", t + EXISTS, JSON_TYPE, "{\"maxMessages\":1}", 405, "method_not_allowed");
        c.add("POST to the topic list", "POST", "/v1/topics", TEXT_TYPE, "x", 405, "method_not_allowed");
        c.add("DELETE the topic list", "DELETE", "/v1/topics", 405, "method_not_allowed");
        c.add("POST to events", "POST", t + EXISTS + "/events", TEXT_TYPE, "x", 405, "method_not_allowed");
        c.add("POST to healthz", "POST", "/healthz", TEXT_TYPE, "x", 405, "method_not_allowed");
        c.add("DELETE metrics", "DELETE", "/metrics", 405, "method_not_allowed");
        return c.all.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void refused(Case c) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri(c.path())).timeout(Duration.ofSeconds(10))
                .method(c.method(), c.body().length == 0 && !c.method().equals("POST") && !c.method().equals("PUT")
                        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(c.body()));
        c.headers().forEach(b::header);
        HttpResponse<String> r = server.send(b.build());
        assertError(r, c.status(), c.code());
        if (c.status() == 405) {
            assertThat(r.headers().firstValue("Allow")).as("a 405 lists the allowed methods (RFC 9110 15.5.6)")
                    .hasValueSatisfying(allow -> assertThat(allow).isNotBlank().doesNotContain(c.method()));
        }
    }

    /** Request targets the JDK client will not send (it validates URIs): written on a raw socket. */
    static Stream<String[]> refusedOnTheWire() {
        String post = "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\nx";
        String get = "GET %s HTTP/1.1\r\nHost: x\r\n\r\n";
        return Stream.of(
                new String[] {"bad escape in a topic name", get.formatted("/v1/topics/%zz"), "400", "invalid_uri"},
                new String[] {"bad escape in from", get.formatted("/v1/topics/" + EXISTS + "/messages?from=%zz"), "400",
                        "invalid_uri"},
                new String[] {"bad escape in wait", get.formatted("/v1/topics/" + ABSENT + "/messages?wait=%G1"),
                        "400", "invalid_uri"},
                new String[] {"truncated escape in a publish", post.formatted("/v1/topics/" + ABSENT + "%2/messages"),
                        "400", "invalid_uri"},
                new String[] {"bad escape in retention", "PUT /v1/topics/%x HTTP/1.1\r\nHost: x\r\n"
                        + "Content-Length: 2\r\n\r\n{}", "400", "invalid_uri"},
                new String[] {"NUL in a topic name", get.formatted("/v1/topics/" + EXISTS + "%00"), "400",
                        "invalid_topic"},
                new String[] {"escaped slash in a topic name", post.formatted("/v1/topics/" + ABSENT + "%2Fx/messages"),
                        "400", "invalid_topic"},
                new String[] {"publish with a relative target", post.formatted("v1/topics/" + ABSENT + "/messages"),
                        "404", "not_found"});
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void refusedOnTheWire(String name, String request, String status, String code) {
        try (Wire.Raw raw = new Wire.Raw(server.port(), 5000)) {
            assertError(raw.write(request).read(), Integer.parseInt(status), code);
            assertThat(raw.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").read().status())
                    .as("the connection stays usable").isEqualTo(200);
        }
    }

    @Test
    void absoluteFormTargetsAreServed() {
        // RFC 9112 3.2.2: a server MUST accept http://host/path as well as /path.
        try (Wire.Raw raw = new Wire.Raw(server.port(), 5000)) {
            String origin = "http://127.0.0.1:" + server.port();
            raw.write("GET " + origin + "/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                    + "GET HTTP://127.0.0.1/v1/topics/" + EXISTS + "/messages?from=2 HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET " + origin + "/nope?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(raw.read().status()).isEqualTo(200);
            Wire.Raw.Response poll = raw.read();
            assertThat(poll.status()).isEqualTo(200);
            assertThat(json(poll.body()).get("messages").get(0).get("data").asText()).isEqualTo("two");
            assertError(raw.read(), 404, "not_found");
        }
    }

    // ---- framing-level bodies ----

    @Test
    void chunkedBodyOverTheLimitIs413() {
        byte[] big = new byte[MAX_BODY * 4];
        HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/v1/topics/" + ABSENT + "/messages"))
                .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big))).build());
        assertError(r, 413, "payload_too_large");
    }

    @Test
    void everyOversizedUploadGetsIts413AndEveryOversizedHeadIts431() {
        // The client is still sending when the server refuses: closing at once would make the kernel reset the
        // connection and could destroy the answer before the client reads it.
        for (int i = 0; i < 40; i++) {
            HttpResponse<String> body = server.send(HttpRequest.newBuilder(
                            server.uri("/v1/topics/" + ABSENT + "/messages")).timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("b".repeat(300_000)))
                    .build());
            assertError(body, 413, "payload_too_large");
            HttpResponse<String> head = server.send(HttpRequest.newBuilder(
                            server.uri("/v1/topics/" + ABSENT + "/messages")).timeout(Duration.ofSeconds(10))
                    .header("X-Padding", "h".repeat(150_000)).POST(HttpRequest.BodyPublishers.ofString("x")).build());
            assertError(head, 431, "headers_too_large");
        }
    }

    @Test
    void expectContinueWithADeclaredBodyOverTheLimitIs413BeforeTheBodyIsSent() {
        HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/v1/topics/" + ABSENT + "/messages"))
                .timeout(Duration.ofSeconds(10)).expectContinue(true).header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("y".repeat(MAX_BODY * 2))).build());
        assertError(r, 413, "payload_too_large");
    }

    @Test
    void declaredContentLengthOverTheLimitIs413WithoutReadingTheBody() {
        try (Wire.Raw raw = new Wire.Raw(server.port(), 5000)) {
            raw.write("POST /v1/topics/" + ABSENT + "/messages HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                    + "Content-Length: 100000000\r\n\r\nabc");
            Wire.Raw.Response r = raw.read();
            assertError(r, 413, "payload_too_large");
            assertThat(r.header("connection")).isEqualToIgnoringCase("close");
            assertThat(raw.readUntilClosed()).isEmpty();
        }
    }

    @Test
    void bodiesAtTheLimitsAreAccepted() {
        // The counterpart of the table: exactly at each limit is fine (then undone, so the snapshot holds).
        String topic = "bad-input.at-limit";
        HttpResponse<String> atMax = server.send(HttpRequest.newBuilder(server.uri("/v1/topics/" + topic + "/messages"))
                .header("Content-Type", "text/plain").header("Idempotency-Key", "k".repeat(255))
                .POST(HttpRequest.BodyPublishers.ofString("x".repeat(MAX_BODY))).build());
        assertThat(atMax.statusCode()).as(atMax.body()).isEqualTo(201);
        String longest = "n".repeat(100) + "." + "m".repeat(154);
        assertThat(longest).hasSize(255);
        assertThat(publishText(server, longest, "ok")).isEqualTo(1);
        HttpResponse<String> poll = server.get("/v1/topics/" + topic + "/messages?from=1&limit=1000&wait=5m");
        assertThat(poll.statusCode()).as(poll.body()).isEqualTo(200);
        assertThat(json(poll).get("messages")).hasSize(1);
        assertThat(Wire.delete(server, "/v1/topics/" + topic).statusCode()).isEqualTo(204);
        assertThat(Wire.delete(server, "/v1/topics/" + longest).statusCode()).isEqualTo(204);
    }

    // ---- raw garbage on a socket ----

    /** The server answers 400 (and closes) or just closes; it never hangs on the connection. */
    private static void answers400OrCloses(byte[] input, boolean closeOutput) {
        try (Wire.Raw raw = new Wire.Raw(server.port(), 5000)) {
            raw.write(input);
            if (closeOutput) {
                raw.close();
                return;
            }
            String answer = raw.readUntilClosed();
            if (!answer.isEmpty()) {
                assertThat(answer).startsWith("HTTP/1.1 400 ");
                assertThat(answer).containsIgnoringCase("connection: close");
                String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
                assertError(400, "malformed_request", 400, "application/json", body);
            }
        }
    }

    @Test
    void garbageRequestLine() {
        answers400OrCloses("GARBAGE\r\n\r\n".getBytes(StandardCharsets.US_ASCII), false);
    }

    @Test
    void streamOfNulBytes() {
        answers400OrCloses(new byte[64 * 1024], false);
    }

    @Test
    void binaryNoise() {
        byte[] noise = new byte[4096];
        new java.util.Random(42).nextBytes(noise);
        noise[0] = 'P';
        answers400OrCloses(noise, false);
    }

    @Test
    void halfARequestThenClose() {
        answers400OrCloses(("POST /v1/topics/" + ABSENT + "/messages HTTP/1.1\r\nHost: x\r\n"
                + "Content-Length: 10\r\n\r\nabc")
                .getBytes(StandardCharsets.US_ASCII), true);
        answers400OrCloses("GET /healthz HTTP/1.1\r\nHo".getBytes(StandardCharsets.US_ASCII), true);
    }

    @Test
    void halfAHeadThenSilenceIsClosedByTheHeaderTimeout() {
        answers400OrCloses(("POST /v1/topics/" + ABSENT + "/messages HTTP/1.1\r\nHost: x\r\n")
                .getBytes(StandardCharsets.US_ASCII), false);
    }

    @Test
    void headerLineWithoutAColon() {
        answers400OrCloses("GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII), false);
    }

    @Test
    void contentLengthNotANumber() {
        answers400OrCloses(("POST /v1/topics/" + ABSENT + "/messages HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n"
                + "0123456789").getBytes(StandardCharsets.US_ASCII), false);
    }

    @Test
    void twoDifferentContentLengths() {
        answers400OrCloses(("POST /v1/topics/" + ABSENT + "/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                + "Content-Length: 2\r\n\r\nab").getBytes(StandardCharsets.US_ASCII), false);
    }

    @Test
    void contentLengthAndChunkedTogether() {
        // A request smuggling shape: refused rather than guessing which framing is meant.
        answers400OrCloses(("POST /v1/topics/" + ABSENT + "/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n").getBytes(StandardCharsets.US_ASCII),
                false);
    }

    @Test
    void badChunkedEncoding() {
        answers400OrCloses(("POST /v1/topics/" + ABSENT + "/messages HTTP/1.1\r\nHost: x\r\n"
                + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n").getBytes(StandardCharsets.US_ASCII),
                false);
    }

    @Test
    void garbageAfterAGoodRequestOnOneConnection() {
        try (Wire.Raw raw = new Wire.Raw(server.port(), 5000)) {
            raw.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n\u0001\u0002 junk junk\r\n\r\n");
            assertThat(raw.read().status()).isEqualTo(200);
            String rest = raw.readUntilClosed();
            if (!rest.isEmpty()) {
                assertThat(rest).startsWith("HTTP/1.1 400 ");
            }
        }
    }

    // ---- limits on counts ----

    @Test
    void overTheTopicLimitIs429AndCreatesNothing() {
        try (TestServer small = TestServer.start(cfg -> cfg.withLimits(cfg.limits().withMaxTopics(2)))) {
            publishText(small, "t1", "a");
            publishText(small, "t2", "b");
            HttpResponse<String> r = small.post("/v1/topics/t3/messages", "text/plain", "c");
            assertError(r, 429, "limit_exceeded");
            assertThat(r.headers().firstValue("Retry-After")).isPresent();
            assertError(put(small, "/v1/topics/t3", "{\"maxMessages\":1}"), 429, "limit_exceeded");
            assertError(small.get("/v1/topics/t3/messages?from=next&wait=1s"), 429, "limit_exceeded");
            assertThat(json(small.get("/v1/topics")).get("topics")).hasSize(2);
            assertThat(describe(small, "t3")).isNull();
            assertThat(publishText(small, "t2", "still fine")).isEqualTo(2);
        }
    }
}
