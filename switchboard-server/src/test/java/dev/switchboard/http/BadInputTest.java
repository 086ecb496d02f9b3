package dev.switchboard.http;

import static dev.switchboard.http.Wire.assertError;
import static dev.switchboard.http.Wire.describe;
import static dev.switchboard.http.Wire.json;
import static dev.switchboard.http.Wire.publishText;
import static dev.switchboard.http.Wire.put;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testing.RawHttp;
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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Malformed and oversized input on every endpoint: each case asserts its own outcome (its status and JSON error code,
 * or for broken framing its 400 or its silent close), that it changed nothing stored, and that the server still
 * serves, a connection opened before it included; every failure message names the case. Runs against one server
 * with a small message limit (1024 bytes) and a short header timeout.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BadInputTest {
    private static final int MAX_BODY = 1024;
    /** A stored topic the bad requests aim at; must be exactly as it was after each. */
    private static final String EXISTS = "bad-input.exists";
    /** A topic that does not exist; must still not exist after each bad request. */
    private static final String ABSENT = "bad-input.absent";

    private static final String HEALTHZ = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";

    private static TestServer server;

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

    /**
     * Taken before a case's bad input: what is stored, and a keep-alive connection already in use. The case then
     * asserts, under its own name, that the input changed neither.
     */
    private static final class Before implements AutoCloseable {
        private final String stored = stored();
        private final RawHttp bystander = new RawHttp(server.port(), 5000);

        Before() {
            assertThat(json(stored).get("topics")).as("before the case: only %s is stored", EXISTS).hasSize(1);
            assertThat(bystander.write(HEALTHZ).read().status()).as("before the case: the bystander is served")
                    .isEqualTo(200);
        }

        /** Nothing stored changed and the server still serves, new connections and the one opened before. */
        void assertNothingStoredAndStillServing(String what) {
            assertThat(stored()).as("%s: the stored topics are as before", what).isEqualTo(stored);
            assertThat(describe(server, ABSENT)).as("%s: %s was not created", what, ABSENT).isNull();
            JsonNode exists = describe(server, EXISTS);
            assertThat(exists.get("lastOffset").asLong()).as("%s: nothing was added to %s", what, EXISTS)
                    .isEqualTo(2);
            assertThat(exists.get("retention")).as("%s: the retention of %s", what, EXISTS)
                    .isEqualTo(json("{\"maxMessages\":100}"));
            assertThat(server.get("/healthz").statusCode()).as("%s: a new connection is served", what)
                    .isEqualTo(200);
            assertThat(bystander.write(HEALTHZ).read().status())
                    .as("%s: a connection opened before is still served", what).isEqualTo(200);
        }

        @Override
        public void close() {
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
        try (Before before = new Before()) {
            HttpRequest.Builder b = HttpRequest.newBuilder(server.uri(c.path())).timeout(Duration.ofSeconds(10))
                    .method(c.method(), c.body().length == 0 && !c.method().equals("POST") && !c.method().equals("PUT")
                            ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(c.body()));
            c.headers().forEach(b::header);
            HttpResponse<String> r = server.send(b.build());
            assertError(c.name(), r, c.status(), c.code());
            if (c.status() == 405) {
                assertThat(r.headers().firstValue("Allow"))
                        .as("%s: a 405 lists the allowed methods (RFC 9110 15.5.6)", c.name())
                        .hasValueSatisfying(allow -> assertThat(allow).isNotBlank().doesNotContain(c.method()));
            }
            before.assertNothingStoredAndStillServing(c.name());
        }
    }

    /** Request targets the JDK client will not send (it validates URIs): written on a raw socket. */
    static Stream<String[]> refusedOnTheWire() {
        String post = "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\nx";
        String get = "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n";
        return Stream.of(
                new String[] {"bad escape in a topic name", get.formatted("/v1/topics/%zz"), "400", "invalid_uri"},
                new String[] {"bad escape in from", get.formatted("/v1/topics/" + EXISTS + "/messages?from=%zz"), "400",
                        "invalid_uri"},
                new String[] {"bad escape in wait", get.formatted("/v1/topics/" + ABSENT + "/messages?wait=%G1"),
                        "400", "invalid_uri"},
                new String[] {"truncated escape in a publish", post.formatted("/v1/topics/" + ABSENT + "%2/messages"),
                        "400", "invalid_uri"},
                new String[] {"bad escape in retention", "PUT /v1/topics/%x HTTP/1.1\r\nHost: localhost\r\n"
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
        try (Before before = new Before(); RawHttp raw = new RawHttp(server.port(), 5000)) {
            assertError(name, raw.write(request).read(), Integer.parseInt(status), code);
            assertThat(raw.write(HEALTHZ).read().status()).as("%s: the connection stays usable", name).isEqualTo(200);
            before.assertNothingStoredAndStillServing(name);
        }
    }

    @Test
    void absoluteFormTargetsAreServed() {
        // RFC 9112 3.2.2: a server MUST accept http://host/path as well as /path.
        try (Before before = new Before(); RawHttp raw = new RawHttp(server.port(), 5000)) {
            String origin = "http://127.0.0.1:" + server.port();
            raw.write("GET " + origin + "/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                    + "GET HTTP://127.0.0.1/v1/topics/" + EXISTS + "/messages?from=2 HTTP/1.1\r\nHost: localhost\r\n\r\n"
                    + "GET " + origin + "/nope?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertThat(raw.read().status()).isEqualTo(200);
            RawHttp.Response poll = raw.read();
            assertThat(poll.status()).isEqualTo(200);
            assertThat(json(poll.body()).get("messages").get(0).get("data").asText()).isEqualTo("two");
            assertError("an absolute-form target to no endpoint", raw.read(), 404, "not_found");
            before.assertNothingStoredAndStillServing("absolute-form targets");
        }
    }

    // ---- framing-level bodies ----

    @Test
    void chunkedBodyOverTheLimitIs413() {
        try (Before before = new Before()) {
            byte[] big = new byte[MAX_BODY * 4];
            HttpResponse<String> r = server.send(HttpRequest.newBuilder(
                            server.uri("/v1/topics/" + ABSENT + "/messages")).timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/octet-stream")
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big))).build());
            assertError("a chunked body over the limit", r, 413, "payload_too_large");
            before.assertNothingStoredAndStillServing("a chunked body over the limit");
        }
    }

    @Test
    void everyOversizedUploadGetsIts413AndEveryOversizedHeadIts431() {
        // The client is still sending when the server refuses: closing at once would make the kernel reset the
        // connection and could destroy the answer before the client reads it.
        try (Before before = new Before()) {
            for (int i = 0; i < 40; i++) {
                HttpResponse<String> body = server.send(HttpRequest.newBuilder(
                                server.uri("/v1/topics/" + ABSENT + "/messages")).timeout(Duration.ofSeconds(10))
                        .header("Content-Type", "text/plain")
                        .POST(HttpRequest.BodyPublishers.ofString("b".repeat(300_000))).build());
                assertError("oversized upload #" + i, body, 413, "payload_too_large");
                HttpResponse<String> head = server.send(HttpRequest.newBuilder(
                                server.uri("/v1/topics/" + ABSENT + "/messages")).timeout(Duration.ofSeconds(10))
                        .header("X-Padding", "h".repeat(150_000)).POST(HttpRequest.BodyPublishers.ofString("x"))
                        .build());
                assertError("oversized head #" + i, head, 431, "headers_too_large");
            }
            before.assertNothingStoredAndStillServing("40 oversized uploads and heads");
        }
    }

    @Test
    void expectContinueWithADeclaredBodyOverTheLimitIs413BeforeTheBodyIsSent() {
        try (Before before = new Before()) {
            HttpResponse<String> r = server.send(HttpRequest.newBuilder(
                            server.uri("/v1/topics/" + ABSENT + "/messages")).timeout(Duration.ofSeconds(10))
                    .expectContinue(true).header("Content-Type", "text/plain")
                    .POST(HttpRequest.BodyPublishers.ofString("y".repeat(MAX_BODY * 2))).build());
            assertError("Expect: 100-continue over the limit", r, 413, "payload_too_large");
            before.assertNothingStoredAndStillServing("Expect: 100-continue over the limit");
        }
    }

    @Test
    void declaredContentLengthOverTheLimitIs413WithoutReadingTheBody() {
        String what = "a declared Content-Length over the limit";
        try (Before before = new Before(); RawHttp raw = new RawHttp(server.port(), 5000)) {
            raw.write("POST /v1/topics/" + ABSENT + "/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n"
                    + "Content-Length: 100000000\r\n\r\nabc");
            RawHttp.Response r = raw.read();
            assertError(what, r, 413, "payload_too_large");
            assertThat(r.header("connection")).as("%s: the connection closes", what).isEqualToIgnoringCase("close");
            assertThat(raw.readUntilClosed()).as("%s: nothing after the 413", what).isEmpty();
            before.assertNothingStoredAndStillServing(what);
        }
    }

    @Test
    void bodiesAtTheLimitsAreAccepted() {
        // The counterpart of the table: exactly at each limit is fine (then undone, so the snapshot holds).
        try (Before before = new Before()) {
            String topic = "bad-input.at-limit";
            HttpResponse<String> atMax = server.send(HttpRequest.newBuilder(
                            server.uri("/v1/topics/" + topic + "/messages"))
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
            before.assertNothingStoredAndStillServing("bodies at the limits, then deleted");
        }
    }

    // ---- raw garbage on a socket ----

    /** Writes {@code input} on a new connection and returns everything the server sends until it closes it. */
    private static String answerUntilClosed(String input) {
        try (RawHttp raw = new RawHttp(server.port(), 5000)) {
            return raw.write(input.getBytes(StandardCharsets.ISO_8859_1)).readUntilClosed();
        }
    }

    /** The answer is a 400 {@code malformed_request} that closes the connection, and nothing follows it. */
    private static void assertMalformedThenClosed(String what, String answer) {
        assertThat(answer).as("%s: the answer", what).startsWith("HTTP/1.1 400 ");
        int headEnd = answer.indexOf("\r\n\r\n");
        assertThat(answer.substring(0, headEnd)).as("%s: the head", what).containsIgnoringCase("connection: close")
                .containsIgnoringCase("content-type: application/json");
        Wire.assertError(what, 400, "malformed_request", 400, "application/json", answer.substring(headEnd + 4));
    }

    /** A request the decoder cannot parse: 400 {@code malformed_request}, then the connection closes. */
    private static void assertMalformed(String what, String input) {
        try (Before before = new Before()) {
            assertMalformedThenClosed(what, answerUntilClosed(input));
            before.assertNothingStoredAndStillServing(what);
        }
    }

    @Test
    void garbageRequestLine() {
        assertMalformed("a garbage request line", "GARBAGE\r\n\r\n");
    }

    @Test
    void streamOfNulBytes() {
        assertMalformed("64 KiB of NUL bytes", "\0".repeat(64 * 1024));
    }

    @Test
    void binaryNoise() {
        byte[] noise = new byte[4096];
        new java.util.Random(42).nextBytes(noise);
        noise[0] = 'P';
        assertMalformed("4 KiB of binary noise", new String(noise, StandardCharsets.ISO_8859_1));
    }

    @Test
    void halfARequestThenClose() {
        try (Before before = new Before()) {
            String what = "half a publish body, then the client closes";
            try (RawHttp raw = new RawHttp(server.port(), 5000)) {
                raw.write("POST /v1/topics/" + ABSENT + "/messages HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n"
                        + "abc");
            }
            before.assertNothingStoredAndStillServing(what);
        }
        try (Before before = new Before()) {
            String what = "half a request head, then the client closes";
            try (RawHttp raw = new RawHttp(server.port(), 5000)) {
                raw.write("GET /healthz HTTP/1.1\r\nHo");
            }
            before.assertNothingStoredAndStillServing(what);
        }
    }

    @Test
    void halfAHeadThenSilenceIsClosedByTheHeaderTimeout() {
        String what = "half a request head, then silence";
        try (Before before = new Before()) {
            String answer = answerUntilClosed("POST /v1/topics/" + ABSENT + "/messages HTTP/1.1\r\nHost: localhost\r\n");
            assertThat(answer).as("%s: closed by the header timeout without an answer", what).isEmpty();
            before.assertNothingStoredAndStillServing(what);
        }
    }

    @Test
    void headerLineWithoutAColon() {
        assertMalformed("a header line without a colon",
                "GET /healthz HTTP/1.1\r\nHost: localhost\r\nno colon here\r\n\r\n");
    }

    @Test
    void contentLengthNotANumber() {
        assertMalformed("a Content-Length that is not a number", "POST /v1/topics/" + ABSENT + "/messages HTTP/1.1\r\n"
                + "Host: localhost\r\nContent-Length: ten\r\n\r\n0123456789");
    }

    @Test
    void twoDifferentContentLengths() {
        assertMalformed("two different Content-Lengths", "POST /v1/topics/" + ABSENT + "/messages HTTP/1.1\r\n"
                + "Host: localhost\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab");
    }

    @Test
    void contentLengthAndChunkedTogether() {
        // A request smuggling shape: refused rather than guessing which framing is meant.
        assertMalformed("Content-Length and chunked together", "POST /v1/topics/" + ABSENT + "/messages HTTP/1.1\r\n"
                + "Host: localhost\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    }

    @Test
    void badChunkedEncoding() {
        assertMalformed("a chunk size that is not hex", "POST /v1/topics/" + ABSENT + "/messages HTTP/1.1\r\n"
                + "Host: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n");
    }

    @Test
    void garbageAfterAGoodRequestOnOneConnection() {
        String what = "garbage after a good request";
        try (Before before = new Before(); RawHttp raw = new RawHttp(server.port(), 5000)) {
            raw.write(HEALTHZ + "\u0001\u0002 junk junk\r\n\r\n");
            assertThat(raw.read().status()).as("%s: the good request is answered", what).isEqualTo(200);
            assertMalformedThenClosed(what, raw.readUntilClosed());
            before.assertNothingStoredAndStillServing(what);
        }
    }

    // ---- limits on counts ----

    @Test
    void overTheTopicLimitIs429AndCreatesNothing() {
        try (TestServer small = TestServer.start(cfg -> cfg.withLimits(cfg.limits().withMaxTopics(2)))) {
            publishText(small, "t1", "a");
            publishText(small, "t2", "b");
            HttpResponse<String> r = small.post("/v1/topics/t3/messages", "text/plain", "c");
            assertError("a publish creating a third topic", r, 429, "limit_exceeded");
            assertThat(r.headers().firstValue("Retry-After")).as("a 429 says when to retry").isPresent();
            assertError("a retention creating a third topic", put(small, "/v1/topics/t3", "{\"maxMessages\":1}"), 429,
                    "limit_exceeded");
            assertError("a long poll creating a third topic", small.get("/v1/topics/t3/messages?from=next&wait=1s"),
                    429, "limit_exceeded");
            assertThat(json(small.get("/v1/topics")).get("topics")).as("still two topics").hasSize(2);
            assertThat(describe(small, "t3")).as("t3 was not created").isNull();
            assertThat(publishText(small, "t2", "still fine")).as("an existing topic still takes publishes")
                    .isEqualTo(2);
        }
    }
}
