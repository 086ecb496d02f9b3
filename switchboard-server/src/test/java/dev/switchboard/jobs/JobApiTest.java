package dev.switchboard.jobs;

import static dev.switchboard.jobs.JobHttp.assertError;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.jobs.JobHttp.Response;
import dev.switchboard.testing.RawHttp;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * Every row of docs/api.md's Jobs table, black-box over real loopback sockets: the JDK HttpClient for plain calls, curl
 * processes for long polls and SSE, the JDK WebSocket client for the job's topic. One server for the class; each test
 * has its own queue.
 */
@Timeout(value = 60, unit = SECONDS)
@TestInstance(TestInstance.Lifecycle.PER_CLASS) // a subclass chooses the server (newServer)
class JobApiTest {
    private static final Duration HELD = Duration.ofMillis(300);
    private static final ExecutorService WORKERS = Executors.newVirtualThreadPerTaskExecutor();

    private static TestServer server;
    private static JobHttp http;
    private String queue;

    @BeforeAll
    void startServer() {
        server = newServer(UnaryOperator.identity());
        http = new JobHttp(server.http(), server.url());
    }

    @AfterAll
    void stopServer() {
        server.close();
    }

    /** The server these tests run against: on the embedded engine here, on Redis in {@link RedisJobApiTest}. */
    TestServer newServer(UnaryOperator<ServerConfig> customize) {
        return TestServer.start(customize);
    }

    @BeforeEach
    void queueOfTest(TestInfo test) {
        queue = "api-" + test.getTestMethod().orElseThrow().getName();
    }

    @Test
    void submitAnswers202WithLocationAndTheQueuedJob() {
        Response r = http.submitRaw(queue, "", "text/plain", "hello");

        assertThat(r.status()).isEqualTo(202);
        assertThat(r.header("content-type")).startsWith("application/json");
        JsonNode job = r.json();
        String id = job.get("id").asText();
        assertThat(id).isNotBlank();
        assertThat(r.header("location")).isEqualTo("/v1/jobs/" + id);
        assertThat(job.get("queue").asText()).isEqualTo(queue);
        assertThat(job.get("status").asText()).isEqualTo("queued");
        assertThat(job.get("attempt").asInt()).isEqualTo(1);
        assertThat(job.get("version").asLong()).isEqualTo(1);
        assertThat(job.get("progress").get("percent").isNull()).isTrue();
        assertThat(job.get("created").asText()).isNotBlank().isEqualTo(job.get("updated").asText());
        assertThat(job.has("result")).isFalse();
        assertThat(job.has("error")).isFalse();

        Response got = http.get("/v1/jobs/" + id);
        assertThat(got.status()).isEqualTo(200);
        assertThat(got.header("content-type")).startsWith("application/json");
        assertThat(got.json()).isEqualTo(job);

        JsonNode other = http.submit(queue, "text/plain", "again");
        assertThat(other.get("id").asText()).isNotEqualTo(id);
    }

    @Test
    void longPollAnswersOnEachChangeAndWithTheCurrentStateAtTheWaitsEnd() {
        String id = http.submit(queue, "text/plain", "payload").get("id").asText();

        // Nothing changes: held for the whole wait, then the current state.
        try (Curl idle = longPoll(id, "1s", 1)) {
            Response r = idle.awaitResponse(Duration.ofSeconds(10));
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.json().get("status").asText()).isEqualTo("queued");
            assertThat(r.json().get("version").asLong()).isEqualTo(1);
            assertThat(idle.elapsed()).isGreaterThanOrEqualTo(Duration.ofMillis(1000));
        }

        JsonNode[] claim = new JsonNode[1];
        JsonNode running = changeWhileLongPolling(id, 1, () -> claim[0] = http.claim(queue, "?lease=30s"));
        assertThat(running.get("status").asText()).isEqualTo("running");
        assertThat(running.get("version").asLong()).isEqualTo(2);
        String token = claim[0].get("lease").asText();

        JsonNode progressed = changeWhileLongPolling(id, 2,
                () -> assertThat(http.progress(id, token, "{\"percent\":40,\"message\":\"reading\"}").status())
                        .isEqualTo(200));
        assertThat(progressed.get("version").asLong()).isEqualTo(3);
        assertThat(progressed.get("progress").get("percent").asInt()).isEqualTo(40);
        assertThat(progressed.get("progress").get("message").asText()).isEqualTo("reading");

        JsonNode done = changeWhileLongPolling(id, 3,
                () -> assertThat(http.complete(id, token, "PAYLOAD").status()).isEqualTo(200));
        assertThat(done.get("status").asText()).isEqualTo("succeeded");
        assertThat(done.get("version").asLong()).isEqualTo(4);
        assertThat(done.get("result").asText()).isEqualTo("PAYLOAD");

        // A version the job already passed answers at once, long before the wait's end.
        try (Curl past = longPoll(id, "20s", 1)) {
            Response r = past.awaitResponse(Duration.ofSeconds(10));
            assertThat(r.json()).isEqualTo(done);
            assertThat(past.elapsed()).isLessThan(Duration.ofSeconds(5));
        }
    }

    /** Starts a long poll past {@code version}, checks it is held, makes a change, and returns the prompt answer. */
    private JsonNode changeWhileLongPolling(String id, long version, Runnable change) {
        try (Curl poll = longPoll(id, "10s", version)) {
            await().during(HELD).atMost(Duration.ofSeconds(5)).until(poll::isAlive);
            long changedAt = System.nanoTime();
            change.run();
            Response r = poll.awaitResponse(Duration.ofSeconds(10));
            assertThat(r.status()).isEqualTo(200);
            assertThat(Duration.ofNanos(poll.exitNanos() - changedAt))
                    .as("long poll answers promptly after the change, not at its 10s end")
                    .isLessThan(Duration.ofSeconds(4));
            return r.json();
        }
    }

    private static Curl longPoll(String id, String wait, long version) {
        return Curl.request("GET", server.url() + "/v1/jobs/" + id + "?wait=" + wait + "&version=" + version);
    }

    @Test
    void sseSendsStatusAndProgressEventsAndEndsAfterTheTerminalState() {
        String id = http.submit(queue, "text/plain", "abc").get("id").asText();

        List<SseEvent> events;
        try (Curl sse = Curl.stream(server.url() + "/v1/jobs/" + id + "/events")) {
            // The stream starts with the job's current state; change it only once that arrived.
            await().atMost(Duration.ofSeconds(10)).until(() -> parse(sse.lines()).size() == 1);
            String token = http.claim(queue, "?lease=30s").get("lease").asText();
            assertThat(http.progress(id, token, "{\"percent\":50,\"message\":\"half\"}").status()).isEqualTo(200);
            assertThat(http.complete(id, token, "cba").status()).isEqualTo(200);

            // Exit code 0: the server ended the stream (curl's own --max-time would give 28).
            assertThat(sse.awaitExit(Duration.ofSeconds(10))).isZero();
            events = parse(sse.lines());
        }

        assertThat(events).extracting(SseEvent::id).containsExactly("1", "2", "3", "4");
        assertThat(events).extracting(SseEvent::event).containsExactly("status", "status", "progress", "status");
        assertThat(events).extracting(e -> e.data().get("status").asText())
                .containsExactly("queued", "running", "running", "succeeded");
        for (SseEvent e : events) {
            assertThat(e.data().get("version").asText()).isEqualTo(e.id());
            assertThat(e.data().get("id").asText()).isEqualTo(id);
        }
        assertThat(events.get(2).data().get("progress").get("percent").asInt()).isEqualTo(50);
        assertThat(events.get(3).data().get("result").asText()).isEqualTo("cba");

        // Following a finished job gives its terminal state and ends at once.
        try (Curl late = Curl.stream(server.url() + "/v1/jobs/" + id + "/events")) {
            assertThat(late.awaitExit(Duration.ofSeconds(10))).isZero();
            assertThat(parse(late.lines())).extracting(SseEvent::id, SseEvent::event)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("4", "status"));
        }
        // A reconnecting client resumes after its Last-Event-ID.
        try (Curl resumed = Curl.stream(server.url() + "/v1/jobs/" + id + "/events", "Last-Event-ID: 2")) {
            assertThat(resumed.awaitExit(Duration.ofSeconds(10))).isZero();
            assertThat(parse(resumed.lines())).extracting(SseEvent::id).containsExactly("3", "4");
        }
    }

    record SseEvent(String id, String event, JsonNode data) {}

    /** Complete events (ended by a blank line); comments (heartbeats) are skipped. */
    private static List<SseEvent> parse(List<String> lines) {
        List<SseEvent> events = new ArrayList<>();
        String id = null;
        String event = null;
        StringBuilder data = new StringBuilder();
        for (String line : lines) {
            if (line.isEmpty()) {
                if (event != null || !data.isEmpty()) {
                    try {
                        events.add(new SseEvent(id, event, JobHttp.JSON.readTree(data.toString())));
                    } catch (IOException e) {
                        throw new AssertionError("event data is not JSON: " + data, e);
                    }
                }
                id = null;
                event = null;
                data.setLength(0);
            } else if (line.startsWith("id: ")) {
                id = line.substring(4);
            } else if (line.startsWith("event: ")) {
                event = line.substring(7);
            } else if (line.startsWith("data: ")) {
                data.append(line.substring(6));
            }
        }
        return events;
    }

    @Test
    void resultIsTheBytesWithTheirContentTypeAnd409BeforeTheJobSucceeded() {
        String id = http.submit(queue, "text/plain", "make it").get("id").asText();
        assertError(http.result(id), 409, "job_not_succeeded");
        String token = http.claim(queue, "").get("lease").asText();
        assertError(http.result(id), 409, "job_not_succeeded");

        byte[] bytes = new byte[] {0, 1, 2, (byte) 0xff, (byte) 0xfe, '\n', 'x'};
        assertThat(http.complete(id, token, "application/x-thing", bytes).status()).isEqualTo(200);

        Response r = http.result(id);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("content-type")).isEqualTo("application/x-thing");
        assertThat(r.body()).isEqualTo(bytes);
        JsonNode job = http.job(id);
        assertThat(job.get("resultType").asText()).isEqualTo("application/x-thing");
        assertThat(job.get("resultBytes").asInt()).isEqualTo(bytes.length);
        assertThat(job.get("resultEncoding").asText()).isEqualTo("base64");

        // A result too large to carry inline in the job JSON is read from the store.
        String id2 = http.submit(queue, "text/plain", "big").get("id").asText();
        String token2 = http.claim(queue, "").get("lease").asText();
        byte[] big = new byte[200_000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) ('a' + i % 26);
        }
        assertThat(http.complete(id2, token2, "text/plain", big).status()).isEqualTo(200);
        JsonNode bigJob = http.job(id2);
        assertThat(bigJob.get("resultBytes").asInt()).isEqualTo(big.length);
        assertThat(bigJob.has("result")).isFalse();
        Response bigResult = http.result(id2);
        assertThat(bigResult.status()).isEqualTo(200);
        assertThat(bigResult.header("content-type")).isEqualTo("text/plain");
        assertThat(bigResult.body()).isEqualTo(big);
    }

    @Test
    void cancelWhileQueuedTakesTheJobOffTheQueue() {
        String id = http.submit(queue, "text/plain", "never run").get("id").asText();

        Response r = http.cancel(id);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("status").asText()).isEqualTo("cancelled");
        assertThat(r.json().get("version").asLong()).isEqualTo(2);
        JsonNode cancelled = http.job(id);
        assertThat(cancelled.get("status").asText()).isEqualTo("cancelled");

        assertThat(http.claimRaw(queue, "").status()).as("nothing left to claim").isEqualTo(204);
        assertError(http.cancel(id), 409, "job_finished");
        assertError(http.result(id), 409, "job_not_succeeded");
        http.assertUnchanged(cancelled);
        assertThat(http.queue(queue).get("cancelled").asInt()).isEqualTo(1);
        assertThat(http.queue(queue).get("depth").asInt()).isZero();
    }

    @Test
    void cancelWhileRunningFencesOffTheWorker() {
        String id = http.submit(queue, "text/plain", "stop me").get("id").asText();
        String token = http.claim(queue, "?lease=30s").get("lease").asText();

        Response r = http.cancel(id);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("status").asText()).isEqualTo("cancelled");
        JsonNode cancelled = http.job(id);

        assertError(http.progress(id, token, "{\"percent\":10}"), 409, "lease_lost");
        assertError(http.complete(id, token, "too late"), 409, "lease_lost");
        assertError(http.heartbeat(id, token), 409, "lease_lost");
        assertError(http.fail(id, token, "{\"error\":\"x\",\"retry\":true}"), 409, "lease_lost");
        http.assertUnchanged(cancelled);
        assertThat(cancelled.get("status").asText()).isEqualTo("cancelled");
    }

    @Test
    void cancellingAFinishedJobIs409AndChangesNothing() {
        String id = http.submit(queue, "text/plain", "quick").get("id").asText();
        String token = http.claim(queue, "").get("lease").asText();
        assertThat(http.complete(id, token, "done").status()).isEqualTo(200);
        JsonNode done = http.job(id);

        assertError(http.cancel(id), 409, "job_finished");

        http.assertUnchanged(done);
        assertThat(http.result(id).text()).isEqualTo("done");
    }

    @Test
    void claimWithWaitAnswers204WhenNothingCame() {
        long start = System.nanoTime();
        Response r = http.claimRaw(queue, "?wait=1s");
        assertThat(r.status()).isEqualTo(204);
        assertThat(r.body()).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(1000));
    }

    @Test
    void heldClaimIsWokenBySubmitLongBeforeItsWaitEnds() throws Exception {
        CompletableFuture<Response> held = http.sendAsync("POST", "/v1/queues/" + queue + "/claim?wait=30s", null);
        await().during(HELD).atMost(Duration.ofSeconds(5)).until(() -> !held.isDone());
        // A job on another queue is not for this claim.
        http.submit(queue + "-other", "text/plain", "not mine");
        await().during(HELD).atMost(Duration.ofSeconds(5)).until(() -> !held.isDone());

        long submitted = System.nanoTime();
        String id = http.submit(queue, "text/plain", "wake up").get("id").asText();
        Response r = held.get(10, SECONDS);

        assertThat(Duration.ofNanos(System.nanoTime() - submitted)).isLessThan(Duration.ofSeconds(4));
        assertThat(r.status()).isEqualTo(200);
        JsonNode claim = r.json();
        assertThat(claim.get("id").asText()).isEqualTo(id);
        assertThat(claim.get("status").asText()).isEqualTo("running");
        assertThat(claim.get("payload").asText()).isEqualTo("wake up");
        assertThat(claim.get("payloadType").asText()).isEqualTo("text/plain");
        assertThat(claim.get("lease").asText()).isNotBlank();
        assertThat(http.job(id).get("status").asText()).isEqualTo("running");
    }

    @Test
    void claimsTakeJobsInSubmissionOrder() {
        List<String> submitted = IntStream.range(0, 6)
                .mapToObj(i -> http.submit(queue, "text/plain", "job " + i).get("id").asText()).toList();

        List<String> claimed = new ArrayList<>();
        for (int i = 0; i < submitted.size(); i++) {
            JsonNode c = http.claim(queue, "");
            assertThat(c.get("payload").asText()).isEqualTo("job " + i);
            claimed.add(c.get("id").asText());
        }

        assertThat(claimed).containsExactlyElementsOf(submitted);
        assertThat(http.claimRaw(queue, "").status()).isEqualTo(204);
    }

    /** The jobs of a {@code ?max=} claim that must get some (200 {@code {"jobs":[…]}}). */
    private static List<JsonNode> claimMany(String queue, String query) {
        JsonNode body = http.claim(queue, query);
        assertThat(body.properties()).extracting(Map.Entry::getKey).containsExactly("jobs");
        List<JsonNode> jobs = new ArrayList<>();
        body.get("jobs").forEach(jobs::add);
        return jobs;
    }

    @Test
    void claimWithMaxTakesUpToThatManyOldestFirstEachWithItsOwnLeaseInOneCommit() {
        List<String> submitted = IntStream.range(0, 5)
                .mapToObj(i -> http.submit(queue, "text/plain", "job " + i).get("id").asText()).toList();

        List<JsonNode> first = claimMany(queue, "?max=3&lease=30s");
        assertThat(first).extracting(c -> c.get("id").asText()).containsExactlyElementsOf(submitted.subList(0, 3));
        assertThat(first).extracting(c -> c.get("payload").asText()).containsExactly("job 0", "job 1", "job 2");
        assertThat(first).extracting(c -> c.get("lease").asText()).doesNotHaveDuplicates().allSatisfy(
                lease -> assertThat(lease).isNotBlank());
        // One commit: the jobs changed at one time, so their leases end together.
        assertThat(first).extracting(c -> c.get("updated").asText()).containsOnly(first.get(0).get("updated").asText());
        assertThat(first).extracting(c -> c.get("leaseExpires").asText())
                .containsOnly(first.get(0).get("leaseExpires").asText());
        for (JsonNode c : first) {
            // Each element is what a claim without max answers: the job, its payload and its lease.
            assertThat(c.properties()).extracting(Map.Entry::getKey).containsExactly("id", "queue",
                    "status", "attempt", "progress", "version", "created", "updated", "payloadType", "payload",
                    "lease", "leaseExpires");
            assertThat(c.get("status").asText()).isEqualTo("running");
            assertThat(c.get("payloadType").asText()).isEqualTo("text/plain");
            assertThat(http.job(c.get("id").asText())).isEqualTo(JobHttp.publicPart(c));
        }

        List<JsonNode> rest = claimMany(queue, "?max=10");
        assertThat(rest).extracting(c -> c.get("id").asText()).containsExactlyElementsOf(submitted.subList(3, 5));
        assertThat(http.claimRaw(queue, "?max=10").status()).as("nothing left").isEqualTo(204);
        assertCounts(0, 5, 0, 0, 0);
    }

    @Test
    void completesOfClaimedJobsPipelinedOnOneConnectionAllSucceed() throws Exception {
        for (int i = 0; i < 4; i++) {
            http.submit(queue, "text/plain", "job " + i);
        }
        List<JsonNode> claimed = claimMany(queue, "?max=4");
        StringBuilder pipelined = new StringBuilder();
        for (JsonNode c : claimed) {
            String result = JobHttp.reversed(c.get("payload").asText());
            pipelined.append("POST /v1/jobs/").append(c.get("id").asText()).append("/complete HTTP/1.1\r\n")
                    .append("Host: localhost\r\nContent-Type: text/plain\r\n")
                    .append(JobHttp.LEASE_TOKEN).append(": ").append(c.get("lease").asText()).append("\r\n")
                    .append("Content-Length: ").append(result.length()).append("\r\n\r\n").append(result);
        }
        try (RawHttp connection = new RawHttp(server.port(), 10_000)) {
            connection.write(pipelined.toString());
            for (JsonNode c : claimed) {
                RawHttp.Response r = connection.read();
                assertThat(r.status()).as(r.body()).isEqualTo(200);
                JsonNode done = JobHttp.JSON.readTree(r.body());
                assertThat(done.get("id").asText()).isEqualTo(c.get("id").asText());
                assertThat(done.get("status").asText()).isEqualTo("succeeded");
                assertThat(done.get("result").asText()).isEqualTo(JobHttp.reversed(c.get("payload").asText()));
            }
        }
        assertCounts(0, 0, 4, 0, 0);
    }

    @Test
    void aClaimMaxOutsideOneToAHundredIsRefusedAndChangesNothing() {
        JsonNode a = http.submit(queue, "text/plain", "a");
        JsonNode b = http.submit(queue, "text/plain", "b");
        for (String query : List.of("?max=0", "?max=101", "?max=abc", "?max=-1", "?max=", "?max=2.5",
                "?max=2&max=3", "?max=101&wait=5s")) {
            assertError(http.claimRaw(queue, query), 400, "invalid_query");
        }
        http.assertUnchanged(a);
        http.assertUnchanged(b);
        assertCounts(2, 0, 0, 0, 0);
        assertThat(claimMany(queue, "?max=100")).hasSize(2);
    }

    @Test
    void aHeldClaimWithMaxIsWokenBySubmitAndAnswersWithWhatCame() throws Exception {
        CompletableFuture<Response> held = http.sendAsync("POST", "/v1/queues/" + queue + "/claim?max=5&wait=30s",
                null);
        await().during(HELD).atMost(Duration.ofSeconds(5)).until(() -> !held.isDone());

        long submitted = System.nanoTime();
        String id = http.submit(queue, "text/plain", "wake up").get("id").asText();
        Response r = held.get(10, SECONDS);

        assertThat(Duration.ofNanos(System.nanoTime() - submitted)).as("not waiting to fill max")
                .isLessThan(Duration.ofSeconds(4));
        assertThat(r.status()).isEqualTo(200);
        JsonNode jobs = r.json().get("jobs");
        assertThat(jobs).hasSize(1);
        assertThat(jobs.get(0).get("id").asText()).isEqualTo(id);
        assertThat(jobs.get(0).get("status").asText()).isEqualTo("running");
        assertThat(jobs.get(0).get("payload").asText()).isEqualTo("wake up");
        assertThat(jobs.get(0).get("lease").asText()).isNotBlank();
        assertThat(http.job(id).get("status").asText()).isEqualTo("running");
    }

    @Test
    void idempotencyKeyReturnsTheSameJob() {
        Response first = http.submitRaw(queue, "", "text/plain", "once", "Idempotency-Key", "order-17");
        Response again = http.submitRaw(queue, "", "text/plain", "once", "Idempotency-Key", "order-17");
        assertThat(first.status()).isEqualTo(202);
        assertThat(again.status()).isEqualTo(202);
        String id = first.json().get("id").asText();
        assertThat(again.json().get("id").asText()).isEqualTo(id);
        assertThat(again.header("location")).isEqualTo("/v1/jobs/" + id);
        assertThat(http.queue(queue).get("depth").asInt()).isEqualTo(1);

        // Still the same job once it moved on.
        String token = http.claim(queue, "").get("lease").asText();
        assertThat(http.complete(id, token, "ok").status()).isEqualTo(200);
        Response later = http.submitRaw(queue, "", "text/plain", "once", "Idempotency-Key", "order-17");
        assertThat(later.json().get("id").asText()).isEqualTo(id);
        assertThat(later.json().get("status").asText()).isEqualTo("succeeded");

        String otherKey = http.submitRaw(queue, "", "text/plain", "twice", "Idempotency-Key", "order-18")
                .json().get("id").asText();
        assertThat(otherKey).isNotEqualTo(id);
        assertThat(http.queue(queue).get("depth").asInt()).isEqualTo(1);
        assertThat(http.queue(queue).get("succeeded").asInt()).isEqualTo(1);
    }

    @Test
    void queueSettingsAndCounts() {
        Response put = http.put("/v1/queues/" + queue, "{\"maxAttempts\":5,\"lease\":\"30s\",\"resultTtl\":\"2h\"}");
        assertThat(put.status()).isEqualTo(200);
        assertThat(put.json().get("maxAttempts").asInt()).isEqualTo(5);
        assertThat(put.json().get("lease").asText()).isEqualTo("30s");
        assertThat(put.json().get("resultTtl").asText()).isEqualTo("2h");
        JsonNode q = http.queue(queue);
        assertThat(q.get("queue").asText()).isEqualTo(queue);
        assertThat(q.get("maxAttempts").asInt()).isEqualTo(5);
        assertThat(q.get("lease").asText()).isEqualTo("30s");
        assertThat(q.get("resultTtl").asText()).isEqualTo("2h");

        String[] ids = IntStream.range(0, 5)
                .mapToObj(i -> http.submit(queue, "text/plain", "n" + i).get("id").asText()).toArray(String[]::new);
        assertCounts(5, 0, 0, 0, 0);
        JsonNode a = http.claim(queue, "");
        // A claim without lease= gets the queue's lease.
        long leaseMillis = java.time.Instant.parse(a.get("leaseExpires").asText()).toEpochMilli()
                - java.time.Instant.parse(a.get("updated").asText()).toEpochMilli();
        assertThat(leaseMillis).isEqualTo(30_000);
        assertThat(http.complete(ids[0], a.get("lease").asText(), "ok").status()).isEqualTo(200);
        JsonNode b = http.claim(queue, "");
        assertThat(http.fail(ids[1], b.get("lease").asText(), "{\"error\":\"no\",\"retry\":false}").status())
                .isEqualTo(200);
        http.claim(queue, "");
        assertThat(http.cancel(ids[2]).status()).isEqualTo(200);
        http.claim(queue, "");

        assertCounts(1, 1, 1, 1, 1);

        // Bad settings are refused and change nothing.
        assertError(http.put("/v1/queues/" + queue, "{\"maxAttempts\":0}"), 400, "invalid_queue");
        assertError(http.put("/v1/queues/" + queue, "{\"lease\":\"0s\"}"), 400, "invalid_queue");
        assertError(http.put("/v1/queues/" + queue, "{\"lease\":\"soon\"}"), 400, "invalid_duration");
        assertError(http.put("/v1/queues/" + queue, "{\"maxAttemps\":3}"), 400, "invalid_queue");
        assertError(http.put("/v1/queues/" + queue, "{\"maxAttempts\":"), 400, "invalid_json");
        JsonNode after = http.queue(queue);
        assertThat(after.get("maxAttempts").asInt()).isEqualTo(5);
        assertThat(after.get("lease").asText()).isEqualTo("30s");
        assertThat(after.get("resultTtl").asText()).isEqualTo("2h");

        assertError(http.get("/v1/queues/" + queue + "-never-used"), 404, "queue_not_found");
    }

    private void assertCounts(int depth, int running, int succeeded, int failed, int cancelled) {
        JsonNode q = http.queue(queue);
        assertThat(List.of(q.get("depth").asInt(), q.get("running").asInt(), q.get("succeeded").asInt(),
                q.get("failed").asInt(), q.get("cancelled").asInt()))
                .as("depth, running, succeeded, failed, cancelled of %s", q)
                .containsExactly(depth, running, succeeded, failed, cancelled);
    }

    @Test
    void submitWithWaitAnswers200WithTheResultOfAFastJob() throws Exception {
        CompletableFuture<Response> worker = CompletableFuture.supplyAsync(() -> {
            JsonNode c = http.claim(queue, "?wait=20s");
            return http.complete(c.get("id").asText(), c.get("lease").asText(),
                    c.get("payload").asText().toUpperCase());
        }, WORKERS);

        Response r = http.submitRaw(queue, "?wait=20s", "text/plain", "fast");

        assertThat(r.status()).isEqualTo(200);
        JsonNode job = r.json();
        assertThat(job.get("status").asText()).isEqualTo("succeeded");
        assertThat(job.get("result").asText()).isEqualTo("FAST");
        assertThat(r.header("location")).isEqualTo("/v1/jobs/" + job.get("id").asText());
        assertThat(worker.get(10, SECONDS).status()).isEqualTo(200);
        // Answered by the commit that finished the job, once its events were readable: the last one is the answer.
        Response events = http.get("/v1/topics/" + JobService.topicOf(job.get("id").asText())
                + "/messages?from=earliest");
        JsonNode messages = events.json().get("messages");
        assertThat(messages.get(messages.size() - 1).get("data")).isEqualTo(job);
        assertThat(messages.get(messages.size() - 1).get("offset").asLong()).isEqualTo(job.get("version").asLong());
    }

    @Test
    void submitWithWaitAnswers202ForASlowJob() throws Exception {
        CompletableFuture<Response> submitted = new CompletableFuture<>();
        CompletableFuture<Response> worker = CompletableFuture.supplyAsync(() -> {
            JsonNode c = http.claim(queue, "?wait=20s");
            submitted.join(); // a slow worker: finishes only after the submitter stopped waiting
            return http.complete(c.get("id").asText(), c.get("lease").asText(), "late");
        }, WORKERS);
        await().during(HELD).atMost(Duration.ofSeconds(5)).until(() -> !worker.isDone());

        long start = System.nanoTime();
        Response r = http.submitRaw(queue, "?wait=1s", "text/plain", "slow");
        submitted.complete(r);

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(1000));
        assertThat(r.status()).isEqualTo(202);
        JsonNode job = r.json();
        String id = job.get("id").asText();
        assertThat(r.header("location")).isEqualTo("/v1/jobs/" + id);
        assertThat(job.get("status").asText()).isEqualTo("running");
        assertThat(job.has("result")).isFalse();

        assertThat(worker.get(10, SECONDS).status()).isEqualTo(200);
        assertThat(http.job(id).get("result").asText()).isEqualTo("late");
    }

    @Test
    void webSocketSubscriberOfTheJobsTopicReceivesItsEvents() throws Exception {
        String id = http.submit(queue, "text/plain", "ws").get("id").asText();
        String topic = JobService.topicOf(id);
        List<JsonNode> frames = new CopyOnWriteArrayList<>();
        WebSocket ws = server.http().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
                .buildAsync(URI.create("ws://127.0.0.1:" + server.port() + "/v1/ws"), new Collector(frames))
                .get(10, SECONDS);
        try {
            ws.sendText("{\"op\":\"subscribe\",\"topic\":\"" + topic + "\",\"from\":\"earliest\",\"id\":\"s1\"}", true)
                    .get(10, SECONDS);
            await().atMost(Duration.ofSeconds(10)).until(() -> messages(frames).size() == 1);
            assertThat(frames).anySatisfy(f -> {
                assertThat(f.get("op").asText()).isEqualTo("subscribed");
                assertThat(f.get("id").asText()).isEqualTo("s1");
            });

            String token = http.claim(queue, "").get("lease").asText();
            assertThat(http.progress(id, token, "{\"percent\":70}").status()).isEqualTo(200);
            assertThat(http.complete(id, token, "sw").status()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).until(() -> messages(frames).size() == 4);

            List<JsonNode> messages = messages(frames);
            assertThat(messages).extracting(m -> m.get("offset").asLong()).containsExactly(1L, 2L, 3L, 4L);
            assertThat(messages).extracting(m -> m.get("data").get("status").asText())
                    .containsExactly("queued", "running", "running", "succeeded");
            assertThat(messages).extracting(m -> m.get("type").asText()).containsExactly(
                    JobService.STATUS_EVENT_TYPE, JobService.STATUS_EVENT_TYPE, JobService.PROGRESS_EVENT_TYPE,
                    JobService.STATUS_EVENT_TYPE);
            for (JsonNode m : messages) {
                assertThat(m.get("topic").asText()).isEqualTo(topic);
                assertThat(m.get("data").get("version").asLong()).isEqualTo(m.get("offset").asLong());
            }
            assertThat(messages.getLast().get("data")).isEqualTo(http.job(id));

            // The topic is the server's: a WebSocket publish to it is refused too.
            ws.sendText("{\"op\":\"publish\",\"topic\":\"" + topic + "\",\"data\":\"forged\",\"id\":\"p1\"}", true)
                    .get(10, SECONDS);
            await().atMost(Duration.ofSeconds(10)).until(() -> frames.stream()
                    .anyMatch(f -> f.path("op").asText().equals("error") && f.path("id").asText().equals("p1")));
            assertThat(frames).filteredOn(f -> f.path("id").asText().equals("p1"))
                    .singleElement().satisfies(f -> assertThat(f.get("code").asText()).isEqualTo("reserved_topic"));
            assertThat(http.job(id).get("version").asLong()).isEqualTo(4);
        } finally {
            ws.abort();
        }
    }

    private static List<JsonNode> messages(List<JsonNode> frames) {
        return frames.stream().filter(f -> f.path("op").asText().equals("message")).toList();
    }

    /** Collects the text frames (joined across fragments) as JSON. */
    private record Collector(List<JsonNode> frames, StringBuilder partial) implements WebSocket.Listener {
        Collector(List<JsonNode> frames) {
            this(frames, new StringBuilder());
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                try {
                    frames.add(JobHttp.JSON.readTree(partial.toString()));
                } catch (IOException e) {
                    throw new AssertionError("frame is not JSON: " + partial, e);
                }
                partial.setLength(0);
            }
            ws.request(1);
            return null;
        }
    }

    @Test
    void everyEventIsTheJobsStateAsTheJobEndpointShowsItWhateverItsTextAndResult() throws Exception {
        String awkward = "quote \" backslash \\ newline \n tab \t bell \u0007 del \u007f é ✓ 😀 </script>";
        String text = http.submit(queue, "application/json", "{\"n\":1}").get("id").asText();
        String token = http.claim(queue, "").get("lease").asText();
        Response progressed = http.progress(text, token,
                JobHttp.JSON.writeValueAsString(Map.of("percent", 5, "message", awkward)));
        assertThat(progressed.json().get("progress").get("message").asText()).isEqualTo(awkward);
        assertLatestEventIsTheJob(text);
        assertThat(http.complete(text, token, "application/json", JobHttp.bytes("{\"ok\":[1,2]}")).status())
                .isEqualTo(200);
        assertLatestEventIsTheJob(text);
        assertThat(http.job(text).get("result").get("ok").get(1).asInt()).isEqualTo(2);

        String binary = http.submit(queue, "text/plain", "b").get("id").asText();
        token = http.claim(queue, "").get("lease").asText();
        assertThat(http.complete(binary, token, "application/octet-stream", new byte[] {0, (byte) 0xff, 1}).status())
                .isEqualTo(200);
        assertLatestEventIsTheJob(binary);
        assertThat(http.job(binary).get("resultEncoding").asText()).isEqualTo("base64");

        String failed = http.submit(queue, "text/plain", "f").get("id").asText();
        token = http.claim(queue, "").get("lease").asText();
        Response f = http.fail(failed, token, JobHttp.JSON.writeValueAsString(Map.of("error", awkward)));
        assertThat(f.json().get("error").asText()).isEqualTo(awkward);
        assertLatestEventIsTheJob(failed);
    }

    @Test
    void aJobsTopicReadOnlyAfterItFinishedHoldsEveryEventAtItsVersionAndTime() {
        String id = http.submit(queue, "text/plain", "late reader").get("id").asText();
        String token = http.claim(queue, "").get("lease").asText();
        assertThat(http.progress(id, token, "{\"percent\":40}").status()).isEqualTo(200);
        assertThat(http.complete(id, token, "done").status()).isEqualTo(200);
        JsonNode job = http.job(id);

        List<JsonNode> events = new ArrayList<>();
        http.get("/v1/topics/" + JobService.topicOf(id) + "/messages?from=earliest").json().get("messages")
                .forEach(events::add);

        assertThat(events).extracting(m -> m.get("offset").asLong()).containsExactly(1L, 2L, 3L, 4L);
        assertThat(events).extracting(m -> m.get("data").get("version").asLong()).containsExactly(1L, 2L, 3L, 4L);
        assertThat(events).extracting(m -> m.get("data").get("status").asText())
                .containsExactly("queued", "running", "running", "succeeded");
        assertThat(events).extracting(m -> m.get("type").asText()).containsExactly(JobService.STATUS_EVENT_TYPE,
                JobService.STATUS_EVENT_TYPE, JobService.PROGRESS_EVENT_TYPE, JobService.STATUS_EVENT_TYPE);
        // Each event keeps the time of the change it announced, however late it was read.
        assertThat(events).allSatisfy(m -> assertThat(m.get("time")).isEqualTo(m.get("data").get("updated")));
        assertThat(events.getLast().get("data")).isEqualTo(job);
        Response state = http.get("/v1/topics/" + JobService.topicOf(id));
        assertThat(state.status()).isEqualTo(200);
        assertThat(state.json().get("lastOffset").asLong()).isEqualTo(4);
    }

    @Test
    void aConsumerGroupIsTheFirstReaderOfAJobsTopicAndGetsEveryEvent() {
        String id = http.submit(queue, "text/plain", "grouped").get("id").asText();
        String token = http.claim(queue, "").get("lease").asText();
        assertThat(http.complete(id, token, "done").status()).isEqualTo(200);

        Response fetched = http.post("/v1/topics/" + JobService.topicOf(id) + "/groups/g/fetch?member=m&max=10",
                "application/json", "");

        assertThat(fetched.status()).as(fetched.text()).isEqualTo(200);
        assertThat(fetched.json().get("messages")).extracting(m -> m.get("offset").asLong())
                .containsExactly(1L, 2L, 3L);
        assertThat(fetched.json().get("messages")).extracting(m -> m.get("data").get("status").asText())
                .containsExactly("queued", "running", "succeeded");
    }

    @Test
    void aSubscriberArrivingMidJobFromNextSeesOnlyTheLaterEventsAtTheirVersions() throws Exception {
        String id = http.submit(queue, "text/plain", "mid").get("id").asText();
        String token = http.claim(queue, "").get("lease").asText();
        List<JsonNode> frames = new CopyOnWriteArrayList<>();
        WebSocket ws = server.http().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
                .buildAsync(URI.create("ws://127.0.0.1:" + server.port() + "/v1/ws"), new Collector(frames))
                .get(10, SECONDS);
        try {
            ws.sendText("{\"op\":\"subscribe\",\"topic\":\"" + JobService.topicOf(id)
                    + "\",\"from\":\"next\",\"id\":\"mid\"}", true).get(10, SECONDS);
            await().atMost(Duration.ofSeconds(10)).until(() -> frames.stream()
                    .anyMatch(f -> f.get("op").asText().equals("subscribed")));

            assertThat(http.progress(id, token, "{\"percent\":50}").status()).isEqualTo(200);
            assertThat(http.complete(id, token, "mid done").status()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).until(() -> messages(frames).size() == 2);

            assertThat(messages(frames)).extracting(m -> m.get("offset").asLong()).containsExactly(3L, 4L);
            assertThat(messages(frames)).extracting(m -> m.get("data").get("version").asLong())
                    .containsExactly(3L, 4L);
            assertThat(messages(frames).getLast().get("data")).isEqualTo(http.job(id));
        } finally {
            ws.abort();
        }
    }

    private static void assertLatestEventIsTheJob(String id) {
        Response events = http.get("/v1/topics/" + JobService.topicOf(id) + "/messages?from=earliest");
        assertThat(events.status()).isEqualTo(200);
        JsonNode job = http.job(id);
        assertThat(events.json().get("messages").get(events.json().get("messages").size() - 1).get("data"))
                .isEqualTo(job);
    }

    @Test
    void publishingToAJobsTopicOverHttpIsRefused() {
        assertError(http.post("/v1/topics/_jobs.x/messages", "text/plain", "forged"), 403, "reserved_topic");

        JsonNode job = http.submit(queue, "text/plain", "mine");
        String topic = JobService.topicOf(job.get("id").asText());
        assertError(http.post("/v1/topics/" + topic + "/messages", "application/json",
                "{\"status\":\"succeeded\"}"), 403, "reserved_topic");
        assertError(http.put("/v1/topics/" + topic, "{\"maxMessages\":1}"), 403, "reserved_topic");
        assertError(http.delete("/v1/topics/" + topic), 403, "reserved_topic");

        http.assertUnchanged(job);
        Response events = http.get("/v1/topics/" + topic + "/messages?from=earliest");
        assertThat(events.status()).isEqualTo(200);
        assertThat(events.json().get("messages")).hasSize(1);
        assertThat(new String(events.body(), StandardCharsets.UTF_8)).doesNotContain("forged");
    }
}
