package dev.switchboard.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.JsonFrames;
import dev.switchboard.testing.RawHttp;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tag;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Generated hostile input against a real server over real sockets, a bounded number of tries each: request targets
 * (paths, percent-encodings, query values for offsets, durations and limits), job and batch bodies, WebSocket ops.
 * Every request is answered, below 500, in the error shape when refused; every WebSocket frame gets exactly one reply
 * and leaves the connection usable. About half a minute: the slow tier (jqwik's own tag, the same name as
 * {@link Slow}, which jqwik does not read).
 */
@Tag(Slow.TAG)
class WireProperties {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestServer server;
    private static String jobId;
    private static String lease;
    private static WebSocket ws;
    private static final JsonFrames frames = new JsonFrames();

    @BeforeContainer
    static void start() throws IOException {
        server = TestServer.start();
        RawHttp.Response submitted = request("POST", "/v1/queues/fuzz-q/jobs", "text/plain", "work");
        jobId = JSON.readTree(submitted.body()).get("id").asText();
        RawHttp.Response claimed = request("POST", "/v1/queues/fuzz-q/claim", null, "");
        lease = JSON.readTree(claimed.body()).get("lease").asText();
        ws = JsonFrames.connect(server, null, "", frames);
    }

    /** Replies to ops sent: every op the server sent but the messages and gaps of subscriptions. */
    private static long replies() {
        return frames.ops.stream().map(o -> o.path("op").asText()).filter(op -> !op.equals("message") && !op.equals("gap"))
                .count();
    }

    @AfterContainer
    static void stop() {
        ws.abort();
        server.close();
    }

    private static RawHttp.Response request(String method, String target, String type, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        String head = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                + (type == null ? "" : "Content-Type: " + type + "\r\n") + "Lease-Token: " + lease + "\r\n"
                + "Content-Length: " + bytes.length + "\r\n\r\n";
        try (RawHttp http = new RawHttp(server.port(), 10_000)) {
            http.write(head.getBytes(StandardCharsets.ISO_8859_1));
            http.write(bytes);
            return http.read();
        }
    }

    private static void assertAnswered(RawHttp.Response r, String what) {
        assertThat(r.status()).as(what + ": " + r.body()).isBetween(200, 499);
        if (r.status() >= 400) {
            JsonNode error;
            try {
                error = JSON.readTree(r.body()).path("error");
            } catch (IOException e) {
                throw new AssertionError(what + ": not the error shape: " + r.body(), e);
            }
            assertThat(error.path("code").asText()).as(what).isNotEmpty();
        }
    }

    @Property(tries = 400)
    void anyRequestTargetIsAnswered(@ForAll("targets") String target) {
        assertAnswered(request("GET", target, null, ""), target);
    }

    @Property(tries = 300)
    void anyJobOrQueueBodyIsAnswered(@ForAll("jobCalls") String call, @ForAll("jsonish") String body,
                                     @ForAll("types") String type) {
        String[] methodAndPath = call.split(" ", 2);
        assertAnswered(request(methodAndPath[0], methodAndPath[1], type, body), call + " " + body);
    }

    @Property(tries = 300)
    void everyWebSocketFrameGetsOneReply(@ForAll("ops") String frame) {
        long before = replies();
        ws.sendText(frame, true).join();
        await().atMost(Duration.ofSeconds(10)).until(() -> replies() > before);
        assertThat(replies()).as(frame).isEqualTo(before + 1);
        assertThat(ws.isInputClosed()).isFalse();
    }

    @Provide
    Arbitrary<String> targets() {
        Arbitrary<String> prefix = Arbitraries.of("/", "/v1/topics/", "/v1/topics/fuzz.t/",
                "/v1/topics/fuzz.t/messages", "/v1/queues/", "/v1/jobs/", "/v1/ws", "/healthz", "http://x/v1/topics/",
                "*", "");
        Arbitrary<String> junk = Arbitraries.strings().withChars("abz09._-/%2F?&=#;:@!$'()*+,~")
                .withCharRange('\u00a0', '\u00ff').ofMaxLength(40);
        Arbitrary<String> query = Combinators.combine(
                Arbitraries.of("from", "wait", "limit", "version", "max", "lease", "subscribe", "token", "x"),
                Arbitraries.strings().withChars("0123456789-+msdh%.ne,az").ofMaxLength(22)).as((k, v) -> k + "=" + v)
                .list().ofMaxSize(4).map(kv -> String.join("&", kv));
        return Combinators.combine(prefix, junk, query).as((p, j, q) -> p + j + (q.isEmpty() ? "" : "?" + q));
    }

    @Provide
    Arbitrary<String> jobCalls() {
        return Arbitraries.of("PUT /v1/queues/fuzz-q", "POST /v1/queues/fuzz-q/jobs",
                "POST /v1/queues/fuzz-other/claim?wait=0s", "POST /v1/topics/fuzz.batch/batch", "POST /v1/jobs/JOB/progress", "POST /v1/jobs/JOB/fail",
                "POST /v1/jobs/JOB/heartbeat", "PUT /v1/topics/fuzz.retention")
                .map(c -> c.replace("JOB", jobId == null ? "none" : jobId));
    }

    @Provide
    Arbitrary<String> types() {
        return Arbitraries.of("application/json", "application/x-ndjson", "text/plain", "application/octet-stream",
                "application/json; charset=latin1", "", "x/y+json");
    }

    @Provide
    Arbitrary<String> jsonish() {
        Arbitrary<String> value = Arbitraries.oneOf(
                Arbitraries.integers().map(String::valueOf),
                Arbitraries.of("true", "false", "null", "1e400", "-0", "\"7d\"", "\"30s\"", "\"\"", "[]", "{}",
                        "\"" + "x".repeat(2000) + "\"", "\"\\ud800\""),
                Arbitraries.strings().withChars("0123456789smhd\"\\{}[],:").ofMaxLength(12));
        Arbitrary<String> field = Arbitraries.of("maxAttempts", "lease", "resultTtl", "percent", "message", "error",
                "retry", "maxMessages", "maxAge", "maxBytes", "unknown");
        Arbitrary<String> object = Combinators.combine(field, value).as((k, v) -> "\"" + k + "\":" + v).list()
                .ofMaxSize(4).map(fields -> "{" + String.join(",", fields) + "}");
        return Arbitraries.oneOf(object, object.list().ofMaxSize(3).map(l -> String.join("\n", l)),
                Arbitraries.strings().ofMaxLength(60));
    }

    @Provide
    Arbitrary<String> ops() {
        Arbitrary<String> op = Arbitraries.of("\"subscribe\"", "\"unsubscribe\"", "\"publish\"", "\"nope\"", "1",
                "null", "[]");
        Arbitrary<String> topic = Arbitraries.of("\"fuzz.ws\"", "\"fuzz.ws.2\"", "\"_jobs.x\"", "\"bad name\"", "\"\"",
                "7", "null", "{}", "\"" + "a".repeat(300) + "\"");
        Arbitrary<String> from = Arbitraries.of("\"next\"", "\"earliest\"", "0", "-5", "1", "18446744073709551617",
                "1.5", "\"7\"", "{}", "true");
        Arbitrary<String> data = Arbitraries.of("\"text\"", "{\"a\":1}", "[1,2]", "null", "\"!!!\"", "12");
        Arbitrary<String> encoding = Arbitraries.of("", ",\"encoding\":\"base64\"", ",\"encoding\":7");
        Arbitrary<String> structured = Combinators.combine(op, topic, from, data, encoding)
                .as((o, t, f, d, e) -> "{\"op\":" + o + ",\"topic\":" + t + ",\"from\":" + f + ",\"data\":" + d + e
                        + ",\"id\":\"i\"}");
        Arbitrary<String> text = Arbitraries.strings().ofMinLength(1).ofMaxLength(80)
                .filter(s -> StandardCharsets.UTF_8.newEncoder().canEncode(s)); // a text frame is UTF-8
        return Arbitraries.oneOf(structured, text, Arbitraries.of("{", "[]", "\"op\"", "{\"op\":\"publish\"}",
                "{\"op\":\"subscribe\",\"topic\":\"fuzz.ws\"}"));
    }
}
