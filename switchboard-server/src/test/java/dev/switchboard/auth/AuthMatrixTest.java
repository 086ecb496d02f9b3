package dev.switchboard.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.JWSAlgorithm;
import dev.switchboard.testing.RawHttp;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.Tokens;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

/**
 * docs/auth.md as a matrix: every endpoint × {no token, expired, not yet valid, wrong signature, wrong issuer, wrong
 * audience, a token whose patterns do not cover the call, one that does}. Every refused call is answered 401 or 403
 * with the error shape and changes nothing (what it could have changed is read back with an admin token and
 * compared); the allowed call then succeeds. Real server, real HS256 tokens, JDK HttpClient.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AuthMatrixTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger names = new AtomicInteger();
    private static final List<String> NONE = List.of();
    private static final Map<String, Object> ALL_BUT_ADMIN = Tokens.rights(List.of(">"), List.of(">"), List.of(">"),
            List.of(">"), false);
    private static Tokens tokens;
    private static TestServer server;
    private static String admin;

    @BeforeAll
    static void start() {
        tokens = Tokens.hs256InTempDir();
        server = TestServer.start(c -> c.withAuth(tokens.config()));
        admin = tokens.sign(Tokens.claims("root", Tokens.rights(NONE, NONE, NONE, NONE, true)));
    }

    @AfterAll
    static void stop() {
        server.close();
        tokens.deleteSecret();
    }

    /** One call: what it sends, the rights that allow it and the answer it gets then, and what it could change. */
    private record Call(String name, String method, String path, Map<String, String> headers, String body,
                        Map<String, Object> allowed, Map<String, Object> forbidden, int allowedStatus,
                        Supplier<String> state) {}

    /** The ways a token can be unacceptable, each with the error code of its 401. */
    private static Map<String, String> invalidTokens(Map<String, Object> rights) {
        Instant now = Instant.now();
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("expired", tokens.sign(Tokens.claims("mallory", rights).issueTime(Date.from(now.minusSeconds(7200)))
                .notBeforeTime(Date.from(now.minusSeconds(7200))).expirationTime(Date.from(now.minusSeconds(600)))));
        bad.put("not yet valid", tokens.sign(Tokens.claims("mallory", rights).notBeforeTime(Date.from(now.plusSeconds(600)))));
        bad.put("wrong signature", Tokens.sign(Tokens.claims("mallory", rights), Tokens.otherSecret(), JWSAlgorithm.HS256));
        bad.put("wrong issuer", tokens.sign(Tokens.claims("mallory", rights).issuer("https://evil.test")));
        bad.put("wrong audience", tokens.sign(Tokens.claims("mallory", rights).audience("another-service")));
        return bad;
    }

    @TestFactory
    Stream<DynamicTest> everyEndpointRefusesWhatTheTokenDoesNotAllow() {
        return calls().stream().map(call -> DynamicTest.dynamicTest(call.name, () -> check(call)));
    }

    private static void check(Call call) {
        String before = call.state.get();
        Answer missing = send(call, null);
        assertRefused(call, "no token", missing, 401, "unauthorized");
        assertThat(missing.header("WWW-Authenticate")).as(call.name).startsWith("Bearer");
        invalidTokens(call.allowed).forEach((what, token) ->
                assertRefused(call, what, send(call, token), 401, what.equals("expired") ? "token_expired" : "unauthorized"));
        assertRefused(call, "forbidden pattern", send(call, tokens.sign(Tokens.claims("mallory", call.forbidden))),
                403, "forbidden");
        assertThat(call.state.get()).as(call.name + ": refused calls must change nothing").isEqualTo(before);

        Answer allowed = send(call, tokens.sign(Tokens.claims("alice", call.allowed)));
        assertThat(allowed.status).as(call.name + " allowed: " + allowed.body).isEqualTo(call.allowedStatus);
    }

    private static void assertRefused(Call call, String what, Answer a, int status, String code) {
        assertThat(a.status).as(call.name + " with " + what + ": " + a.body).isEqualTo(status);
        JsonNode error = json(a.body).path("error");
        assertThat(error.path("code").asText()).as(call.name + " with " + what).isEqualTo(code);
        assertThat(error.path("message").asText()).isNotEmpty();
    }

    private static List<Call> calls() {
        List<Call> calls = new ArrayList<>();
        String t = topicWithAMessage();
        Map<String, Object> readT = Tokens.rights(NONE, List.of(t), NONE, NONE, false);
        Map<String, Object> writeT = Tokens.rights(List.of(t), NONE, NONE, NONE, false);
        Map<String, Object> otherTopics = Tokens.rights(List.of("other.>"), List.of("other.>", "*"), List.of(">"),
                List.of(">"), false);

        calls.add(new Call("describe topic", "GET", "/v1/topics/" + t, Map.of(), null, readT, otherTopics, 200,
                () -> describe(t)));
        calls.add(new Call("short poll", "GET", "/v1/topics/" + t + "/messages?from=earliest", Map.of(), null, readT,
                otherTopics, 200, () -> describe(t)));
        calls.add(new Call("long poll", "GET", "/v1/topics/" + t + "/messages?from=earliest&wait=1s", Map.of(), null,
                readT, otherTopics, 200, () -> describe(t)));
        calls.add(new Call("SSE", "SSE", "/v1/topics/" + t + "/events?from=earliest", Map.of(), null, readT,
                otherTopics, 200, () -> describe(t)));
        calls.add(new Call("WebSocket subscribe on connect", "WS", "/v1/ws?subscribe=" + t, Map.of(), null, readT,
                otherTopics, 101, () -> describe(t)));
        String p = fresh();
        calls.add(new Call("publish", "POST", "/v1/topics/" + p + "/messages", Map.of("Content-Type", "text/plain"),
                "x", Tokens.rights(List.of(p), NONE, NONE, NONE, false), otherTopics, 201, () -> describe(p)));
        String b = fresh();
        calls.add(new Call("batch publish", "POST", "/v1/topics/" + b + "/batch",
                Map.of("Content-Type", "application/x-ndjson"), "{\"a\":1}\n{\"a\":2}\n",
                Tokens.rights(List.of(b), NONE, NONE, NONE, false), otherTopics, 201, () -> describe(b)));
        String r = topicWithAMessage();
        calls.add(new Call("set retention", "PUT", "/v1/topics/" + r, Map.of("Content-Type", "application/json"),
                "{\"maxMessages\":1}", Tokens.rights(NONE, NONE, NONE, NONE, true), ALL_BUT_ADMIN, 200,
                () -> describe(r)));
        String d = topicWithAMessage();
        calls.add(new Call("delete topic", "DELETE", "/v1/topics/" + d, Map.of(), null,
                Tokens.rights(NONE, NONE, NONE, NONE, true), ALL_BUT_ADMIN, 204, () -> describe(d)));
        calls.add(new Call("metrics", "GET", "/metrics", Map.of(), null, Tokens.rights(NONE, NONE, NONE, NONE, true),
                ALL_BUT_ADMIN, 200, () -> ""));
        calls.add(new Call("admin surface", "GET", "/v1/admin/anything", Map.of(), null,
                Tokens.rights(NONE, NONE, NONE, NONE, true), ALL_BUT_ADMIN, 404, () -> ""));

        Map<String, Object> otherQueues = Tokens.rights(List.of(">"), List.of(">"), List.of("other"), List.of("other"),
                false);
        String q = fresh();
        calls.add(new Call("submit job", "POST", "/v1/queues/" + q + "/jobs", Map.of("Content-Type", "text/plain"),
                "work", Tokens.rights(NONE, NONE, List.of(q), NONE, false), otherQueues, 202, () -> queue(q)));
        String cq = fresh();
        submit(cq);
        calls.add(new Call("claim job", "POST", "/v1/queues/" + cq + "/claim", Map.of(), null,
                Tokens.rights(NONE, NONE, NONE, List.of(cq), false), otherQueues, 200, () -> queue(cq)));
        calls.add(new Call("queue stats", "GET", "/v1/queues/" + cq, Map.of(), null,
                Tokens.rights(NONE, NONE, List.of(cq), NONE, false), otherQueues, 200, () -> queue(cq)));
        calls.add(new Call("queue settings", "PUT", "/v1/queues/" + cq, Map.of("Content-Type", "application/json"),
                "{\"maxAttempts\":7}", Tokens.rights(NONE, NONE, NONE, NONE, true), ALL_BUT_ADMIN, 200,
                () -> queue(cq)));

        String jq = fresh();
        Map<String, Object> submitJq = Tokens.rights(NONE, NONE, List.of(jq), NONE, false);
        Map<String, Object> workJq = Tokens.rights(NONE, NONE, NONE, List.of(jq), false);
        String queued = submit(jq);
        calls.add(new Call("job status", "GET", "/v1/jobs/" + queued, Map.of(), null, submitJq, otherQueues, 200,
                () -> job(queued)));
        calls.add(new Call("job events", "SSE", "/v1/jobs/" + queued + "/events", Map.of(), null, workJq,
                otherQueues, 200, () -> job(queued)));
        calls.add(new Call("job result", "GET", "/v1/jobs/" + queued + "/result", Map.of(), null, submitJq,
                otherQueues, 409, () -> job(queued)));
        calls.add(new Call("cancel job", "DELETE", "/v1/jobs/" + queued, Map.of(), null, submitJq, otherQueues, 200,
                () -> job(queued)));
        for (String step : List.of("progress", "heartbeat", "complete", "fail")) {
            String sq = fresh();
            String id = submit(sq);
            String lease = claim(sq);
            String body = switch (step) {
                case "progress" -> "{\"percent\":50}";
                case "fail" -> "{\"error\":\"no\",\"retry\":false}";
                default -> "{}";
            };
            calls.add(new Call("job " + step, "POST", "/v1/jobs/" + id + "/" + step,
                    Map.of("Content-Type", "application/json", "Lease-Token", lease), body,
                    Tokens.rights(NONE, NONE, NONE, List.of(sq), false),
                    Tokens.rights(List.of(">"), List.of(">"), List.of(sq), List.of("other"), false), 200,
                    () -> job(id)));
        }
        return calls;
    }

    @Test
    void listShowsOnlyTheTopicsTheCallerMayRead() {
        String mine = "mine." + fresh();
        String theirs = "theirs." + fresh();
        publishAsAdmin(mine);
        publishAsAdmin(theirs);
        String token = tokens.sign(Tokens.claims("alice", Tokens.rights(NONE, List.of("mine.>"), NONE, NONE, false)));
        Answer list = send("GET", "/v1/topics", Map.of("Authorization", "Bearer " + token), null);
        assertThat(list.status).isEqualTo(200);
        List<String> names = new ArrayList<>();
        json(list.body).get("topics").forEach(n -> names.add(n.get("topic").asText()));
        assertThat(names).contains(mine).doesNotContain(theirs);
        assertThat(send("GET", "/v1/topics", Map.of(), null).status).isEqualTo(401);
    }

    @Test
    void aKeepAliveConnectionIsCheckedAgainWheneverItsTokenChanges() {
        String topic = "keepalive." + fresh();
        String allowed = tokens.sign(Tokens.claims("alice", Tokens.rights(List.of(topic), NONE, NONE, NONE, false)));
        String forged = Tokens.sign(Tokens.claims("alice", Tokens.rights(List.of(topic), NONE, NONE, NONE, false)),
                Tokens.otherSecret(), JWSAlgorithm.HS256);
        String other = tokens.sign(Tokens.claims("bob", Tokens.rights(List.of("elsewhere"), NONE, NONE, NONE, false)));
        try (RawHttp http = new RawHttp(server.port(), 10_000)) {
            assertThat(publishOn(http, topic, allowed)).isEqualTo(201);
            assertThat(publishOn(http, topic, forged)).as("another token on the same connection is checked").isEqualTo(401);
            assertThat(publishOn(http, topic, other)).as("and its own rights apply").isEqualTo(403);
            assertThat(publishOn(http, topic, allowed)).isEqualTo(201);
        }
        assertThat(json(send("GET", "/v1/topics/" + topic, asAdmin("text/plain"), null).body).get("lastOffset")
                .asLong()).isEqualTo(2);
    }

    private static int publishOn(RawHttp http, String topic, String token) {
        return http.write("POST /v1/topics/" + topic + "/messages HTTP/1.1\r\nHost: localhost\r\n"
                + "Authorization: Bearer " + token + "\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\nx")
                .read().status();
    }

    @Test
    void healthChecksNeedNoToken() {
        for (String path : List.of("/healthz", "/readyz")) {
            assertThat(send("GET", path, Map.of(), null).status).as(path).isEqualTo(200);
            assertThat(send("GET", path, Map.of("Authorization", "Bearer garbage"), null).status).as(path)
                    .isEqualTo(200);
        }
    }

    @Test
    void tokenMayComeAsCookieOrQueryParameter() {
        String t = topicWithAMessage();
        String token = tokens.sign(Tokens.claims("alice", Tokens.rights(NONE, List.of(t), NONE, NONE, false)));
        assertThat(send("GET", "/v1/topics/" + t, Map.of("Cookie", "theme=dark; switchboard_token=" + token), null)
                .status).isEqualTo(200);
        assertThat(send("GET", "/v1/topics/" + t + "?token=" + token, Map.of(), null).status).isEqualTo(200);
        assertThat(send("GET", "/v1/topics/" + t + "?token=" + token + "x", Map.of(), null).status).isEqualTo(401);
    }

    @Test
    void subjectPlaceholderGivesEachCallerTheirOwnTopic() {
        String suffix = fresh().replace('.', '-');
        String token = tokens.sign(Tokens.claims("alice" + suffix,
                Tokens.rights(List.of("user.{sub}"), List.of("user.{sub}"), NONE, NONE, false)));
        Map<String, String> auth = Map.of("Authorization", "Bearer " + token, "Content-Type", "text/plain");
        assertThat(send("POST", "/v1/topics/user.alice" + suffix + "/messages", auth, "hi").status).isEqualTo(201);
        assertThat(send("POST", "/v1/topics/user.bob" + suffix + "/messages", auth, "hi").status).isEqualTo(403);
        assertThat(describe("user.bob" + suffix)).startsWith("404");
    }

    // ---- helpers ----

    private record Answer(int status, String body, Map<String, List<String>> headers) {
        String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().getFirst()).findFirst().orElse("");
        }
    }

    private static Answer send(Call call, String token) {
        Map<String, String> headers = new LinkedHashMap<>(call.headers);
        if (token != null) {
            headers.put("Authorization", "Bearer " + token);
        }
        return switch (call.method) {
            case "WS" -> webSocket(call.path, headers);
            case "SSE" -> sse(call.path, headers);
            default -> send(call.method, call.path, headers, call.body);
        };
    }

    private static Answer send(String method, String path, Map<String, String> headers, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri(path)).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(b::header);
        HttpResponse<String> r = server.send(b.build());
        return new Answer(r.statusCode(), r.body(), r.headers().map());
    }

    /** An SSE request: the status and head, then the stream is dropped (an error answer is read whole). */
    private static Answer sse(String path, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri(path)).timeout(Duration.ofSeconds(10)).GET();
        headers.forEach(b::header);
        try {
            HttpResponse<InputStream> r = server.http().send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = r.body()) {
                String body = r.statusCode() == 200 ? "" : new String(in.readAllBytes());
                return new Answer(r.statusCode(), body, r.headers().map());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A WebSocket upgrade with the JDK client: 101 when it opened, else the refusal's status and body. */
    private static Answer webSocket(String path, Map<String, String> headers) {
        WebSocket.Builder b = HttpClient.newHttpClient().newWebSocketBuilder();
        headers.forEach(b::header);
        try {
            WebSocket ws = b.buildAsync(URI.create("ws://127.0.0.1:" + server.port() + path),
                    new WebSocket.Listener() {}).join();
            ws.abort();
            return new Answer(101, "", Map.of());
        } catch (CompletionException e) {
            if (e.getCause() instanceof WebSocketHandshakeException h) {
                HttpResponse<?> r = h.getResponse();
                return new Answer(r.statusCode(), String.valueOf(r.body()), r.headers().map());
            }
            throw e;
        }
    }

    private static JsonNode json(String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + body, e);
        }
    }

    private static String fresh() {
        return "authz.c" + names.incrementAndGet();
    }

    private static Map<String, String> asAdmin(String contentType) {
        return Map.of("Authorization", "Bearer " + admin, "Content-Type", contentType);
    }

    private static void publishAsAdmin(String topic) {
        Answer a = send("POST", "/v1/topics/" + topic + "/messages", asAdmin("text/plain"), "first");
        assertThat(a.status).as(a.body).isEqualTo(201);
    }

    private static String topicWithAMessage() {
        String t = fresh();
        publishAsAdmin(t);
        return t;
    }

    /**
     * A topic as an admin sees it: status and stored description (offsets, bytes, retention), or 404. Live
     * subscriber counts are left out: an earlier case's stream may still be closing.
     */
    private static String describe(String topic) {
        Answer a = send("GET", "/v1/topics/" + topic, asAdmin("text/plain"), null);
        Answer poll = send("GET", "/v1/topics/" + topic + "/messages?from=earliest", asAdmin("text/plain"), null);
        String stored = a.body;
        if (a.status == 200) {
            ObjectNode description = (ObjectNode) json(a.body);
            description.remove("subscribers");
            stored = description.toString();
        }
        return a.status + " " + stored + " " + poll.body;
    }

    private static String queue(String queue) {
        Answer a = send("GET", "/v1/queues/" + queue, asAdmin("text/plain"), null);
        return a.status + " " + a.body;
    }

    private static String job(String id) {
        Answer a = send("GET", "/v1/jobs/" + id, asAdmin("text/plain"), null);
        return a.status + " " + a.body;
    }

    private static String submit(String queue) {
        Answer a = send("POST", "/v1/queues/" + queue + "/jobs", asAdmin("text/plain"), "payload");
        assertThat(a.status).as(a.body).isEqualTo(202);
        return json(a.body).get("id").asText();
    }

    private static String claim(String queue) {
        Answer a = send("POST", "/v1/queues/" + queue + "/claim", asAdmin("text/plain"), null);
        assertThat(a.status).as(a.body).isEqualTo(200);
        return json(a.body).get("lease").asText();
    }
}
