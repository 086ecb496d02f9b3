package dev.switchboard.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.api.SilentCloseable;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.JsonFrames;
import dev.switchboard.testing.RawHttp;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzz tests (Jazzer) sending hostile input to a real server over real sockets: request targets
 * (paths, percent-encodings, query values for offsets, durations and limits), job and batch bodies, WebSocket ops.
 * Every request is answered, below 500, in the error shape when refused, and a refused one changes no stored state;
 * every WebSocket frame gets exactly one reply and leaves the connection usable. A normal test run replays the seeds
 * in {@code src/test/resources/dev/switchboard/fuzz/WireFuzzTestInputs/<method>/} (docs/architecture.md, "Fuzz
 * tests"). Seeds are the input text as is; for the job and batch calls the last character picks the call and the
 * one before it the content type, each as a digit 0-7 (the indexes into {@link #CALLS} and {@link #TYPES}).
 */
class WireFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] CALLS = {"PUT /v1/queues/fuzz-q", "POST /v1/queues/fuzz-q/jobs",
            "POST /v1/queues/fuzz-other/claim?wait=0s", "POST /v1/topics/fuzz.batch/batch",
            "POST /v1/jobs/JOB/progress", "POST /v1/jobs/JOB/fail", "POST /v1/jobs/JOB/heartbeat",
            "PUT /v1/topics/fuzz.retention"};
    private static final String[] TYPES = {"application/json", "application/x-ndjson", "text/plain",
            "application/octet-stream", "application/json; charset=latin1", "", "x/y+json",
            "application/json; charset=utf-8"};
    /** How the fuzzer's connection check names the test server's host. */
    private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "localhost");
    private static TestServer server;
    private static String jobId;
    private static String lease;
    private static WebSocket ws;
    private static final JsonFrames frames = new JsonFrames();

    @BeforeAll
    static void start() throws IOException {
        server = TestServer.start();
        send("PUT", "/v1/topics/fuzz.retention", "application/json", "{\"maxMessages\":10}");
        RawHttp.Response submitted = send("POST", "/v1/queues/fuzz-q/jobs", "text/plain", "work");
        jobId = JSON.readTree(submitted.body()).get("id").asText();
        RawHttp.Response claimed = send("POST", "/v1/queues/fuzz-q/claim", null, "");
        lease = JSON.readTree(claimed.body()).get("lease").asText();
        ws = JsonFrames.connect(server, null, "", frames);
    }

    @AfterAll
    static void stop() {
        ws.abort();
        server.close();
    }

    /** Replies to ops sent: every op the server sent but the messages and gaps of subscriptions. */
    private static long replies() {
        return frames.ops.stream().map(o -> o.path("op").asText()).filter(op -> !op.equals("message") && !op.equals("gap"))
                .count();
    }

    /**
     * A request sent by a fuzz test. While fuzzing, Jazzer reports a connection as a forged request unless the test
     * expects it (its bug detectors load with the fuzzer, after the setup's requests: those go through {@link #send}).
     */
    private static RawHttp.Response request(String method, String target, String type, String body) {
        try (SilentCloseable toTheServer = BugDetectors.allowNetworkConnections(
                (host, port) -> LOOPBACK.contains(host) && port == server.port())) {
            return send(method, target, type, body);
        }
    }

    private static RawHttp.Response send(String method, String target, String type, String body) {
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
            assertThat(json(r.body(), what).path("error").path("code").asText()).as(what).isNotEmpty();
        }
    }

    private static JsonNode json(String text, String what) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new AssertionError(what + ": not JSON: " + text, e);
        }
    }

    /**
     * What the job and batch calls can change: the two topics as described, the queue's settings and how many jobs it
     * holds in any status (a lease running out moves a job from one status to another on its own).
     */
    private static List<Object> storedState() {
        JsonNode queue = json(request("GET", "/v1/queues/fuzz-q", null, "").body(), "queue");
        long jobs = Stream.of("depth", "running", "succeeded", "failed", "cancelled")
                .mapToLong(status -> queue.path(status).asLong()).sum();
        return List.of(request("GET", "/v1/topics/fuzz.batch", null, "").body(),
                request("GET", "/v1/topics/fuzz.retention", null, "").body(),
                queue.path("maxAttempts"), queue.path("lease"), queue.path("resultTtl"), jobs);
    }

    /** Bytes that would end the request line (space, controls) are left out: they make another request, not a target. */
    @FuzzTest
    void anyRequestTargetIsAnswered(FuzzedDataProvider data) {
        String target = data.consumeRemainingAsString().chars().filter(c -> c > ' ' && c != 0x7f && c <= 0xff)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        if (target.isEmpty()) {
            return;
        }
        assertAnswered(request("GET", target, null, ""), target);
    }

    @FuzzTest
    void anyJobOrBatchBodyIsAnsweredAndARefusedOneStoresNothing(FuzzedDataProvider data) {
        String call = data.pickValue(CALLS).replace("JOB", jobId);
        String type = data.pickValue(TYPES);
        String body = data.consumeRemainingAsString();
        String[] methodAndPath = call.split(" ", 2);
        List<Object> before = storedState();
        RawHttp.Response r = request(methodAndPath[0], methodAndPath[1], type, body);
        assertAnswered(r, call + " " + body);
        if (r.status() >= 400) {
            assertThat(storedState()).as("refused %s %s", call, body).isEqualTo(before);
        }
    }

    @FuzzTest
    void everyWebSocketFrameGetsOneReply(FuzzedDataProvider data) {
        String frame = data.consumeRemainingAsString();
        if (frame.isEmpty() || !StandardCharsets.UTF_8.newEncoder().canEncode(frame)) {
            return; // a text frame carries UTF-8
        }
        long before = replies();
        ws.sendText(frame, true).join();
        // polled often: while fuzzing, this wait is most of each input's time
        await().pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(10)).until(() -> replies() > before);
        assertThat(replies()).as(frame).isEqualTo(before + 1);
        assertThat(ws.isInputClosed()).isFalse();
    }
}
