package dev.switchboard.jobs;

import static dev.switchboard.jobs.JobHttp.assertError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.jobs.JobHttp.Response;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link JobApiTest}'s rows for one job followed to its end: submit and get, the long poll, SSE, the result, and
 * cancelling it at each stage.
 */
interface JobFollowContract extends JobApiFixture {

    @Test
    default void submitAnswers202WithLocationAndTheQueuedJob() {
        Response r = http().submitRaw(queue(), "", "text/plain", "hello");

        assertThat(r.status()).isEqualTo(202);
        assertThat(r.header("content-type")).startsWith("application/json");
        JsonNode job = r.json();
        String id = job.get("id").asText();
        assertThat(id).isNotBlank();
        assertThat(r.header("location")).isEqualTo("/v1/jobs/" + id);
        assertThat(job.get("queue").asText()).isEqualTo(queue());
        assertThat(job.get("status").asText()).isEqualTo("queued");
        assertThat(job.get("attempt").asInt()).isEqualTo(1);
        assertThat(job.get("version").asLong()).isEqualTo(1);
        assertThat(job.get("progress").get("percent").isNull()).isTrue();
        assertThat(job.get("created").asText()).isNotBlank().isEqualTo(job.get("updated").asText());
        assertThat(job.has("result")).isFalse();
        assertThat(job.has("error")).isFalse();

        Response got = http().get("/v1/jobs/" + id);
        assertThat(got.status()).isEqualTo(200);
        assertThat(got.header("content-type")).startsWith("application/json");
        assertThat(got.json()).isEqualTo(job);

        JsonNode other = http().submit(queue(), "text/plain", "again");
        assertThat(other.get("id").asText()).isNotEqualTo(id);
    }

    @Test
    default void longPollAnswersOnEachChangeAndWithTheCurrentStateAtTheWaitsEnd() {
        String id = http().submit(queue(), "text/plain", "payload").get("id").asText();

        // Nothing changes: held for the whole wait, then the current state.
        try (Curl idle = longPoll(id, "1s", 1)) {
            Response r = idle.awaitResponse(Duration.ofSeconds(10));
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.json().get("status").asText()).isEqualTo("queued");
            assertThat(r.json().get("version").asLong()).isEqualTo(1);
            assertThat(idle.elapsed()).isGreaterThanOrEqualTo(Duration.ofMillis(1000));
        }

        JsonNode[] claim = new JsonNode[1];
        JsonNode running = changeWhileLongPolling(id, 1, () -> claim[0] = http().claim(queue(), "?lease=30s"));
        assertThat(running.get("status").asText()).isEqualTo("running");
        assertThat(running.get("version").asLong()).isEqualTo(2);
        String token = claim[0].get("lease").asText();

        JsonNode progressed = changeWhileLongPolling(id, 2,
                () -> assertThat(http().progress(id, token, "{\"percent\":40,\"message\":\"reading\"}").status())
                        .isEqualTo(200));
        assertThat(progressed.get("version").asLong()).isEqualTo(3);
        assertThat(progressed.get("progress").get("percent").asInt()).isEqualTo(40);
        assertThat(progressed.get("progress").get("message").asText()).isEqualTo("reading");

        JsonNode done = changeWhileLongPolling(id, 3,
                () -> assertThat(http().complete(id, token, "PAYLOAD").status()).isEqualTo(200));
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

    private Curl longPoll(String id, String wait, long version) {
        return Curl.request("GET", server().url() + "/v1/jobs/" + id + "?wait=" + wait + "&version=" + version);
    }

    @Test
    default void sseSendsStatusAndProgressEventsAndEndsAfterTheTerminalState() {
        String id = http().submit(queue(), "text/plain", "abc").get("id").asText();

        List<SseEvent> events;
        try (Curl sse = Curl.stream(server().url() + "/v1/jobs/" + id + "/events")) {
            // The stream starts with the job's current state; change it only once that arrived.
            await().atMost(Duration.ofSeconds(10)).until(() -> parse(sse.lines()).size() == 1);
            String token = http().claim(queue(), "?lease=30s").get("lease").asText();
            assertThat(http().progress(id, token, "{\"percent\":50,\"message\":\"half\"}").status()).isEqualTo(200);
            assertThat(http().complete(id, token, "cba").status()).isEqualTo(200);

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
        try (Curl late = Curl.stream(server().url() + "/v1/jobs/" + id + "/events")) {
            assertThat(late.awaitExit(Duration.ofSeconds(10))).isZero();
            assertThat(parse(late.lines())).extracting(SseEvent::id, SseEvent::event)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("4", "status"));
        }
        // A reconnecting client resumes after its Last-Event-ID.
        try (Curl resumed = Curl.stream(server().url() + "/v1/jobs/" + id + "/events", "Last-Event-ID: 2")) {
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
    default void resultIsTheBytesWithTheirContentTypeAnd409BeforeTheJobSucceeded() {
        String id = http().submit(queue(), "text/plain", "make it").get("id").asText();
        assertError(http().result(id), 409, "job_not_succeeded");
        String token = http().claim(queue(), "").get("lease").asText();
        assertError(http().result(id), 409, "job_not_succeeded");

        byte[] bytes = new byte[] {0, 1, 2, (byte) 0xff, (byte) 0xfe, '\n', 'x'};
        assertThat(http().complete(id, token, "application/x-thing", bytes).status()).isEqualTo(200);

        Response r = http().result(id);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("content-type")).isEqualTo("application/x-thing");
        assertThat(r.body()).isEqualTo(bytes);
        JsonNode job = http().job(id);
        assertThat(job.get("resultType").asText()).isEqualTo("application/x-thing");
        assertThat(job.get("resultBytes").asInt()).isEqualTo(bytes.length);
        assertThat(job.get("resultEncoding").asText()).isEqualTo("base64");

        // A result too large to carry inline in the job JSON is read from the store.
        String id2 = http().submit(queue(), "text/plain", "big").get("id").asText();
        String token2 = http().claim(queue(), "").get("lease").asText();
        byte[] big = new byte[200_000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) ('a' + i % 26);
        }
        assertThat(http().complete(id2, token2, "text/plain", big).status()).isEqualTo(200);
        JsonNode bigJob = http().job(id2);
        assertThat(bigJob.get("resultBytes").asInt()).isEqualTo(big.length);
        assertThat(bigJob.has("result")).isFalse();
        Response bigResult = http().result(id2);
        assertThat(bigResult.status()).isEqualTo(200);
        assertThat(bigResult.header("content-type")).isEqualTo("text/plain");
        assertThat(bigResult.body()).isEqualTo(big);
    }

    @Test
    default void cancelWhileQueuedTakesTheJobOffTheQueue() {
        String id = http().submit(queue(), "text/plain", "never run").get("id").asText();

        Response r = http().cancel(id);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("status").asText()).isEqualTo("cancelled");
        assertThat(r.json().get("version").asLong()).isEqualTo(2);
        JsonNode cancelled = http().job(id);
        assertThat(cancelled.get("status").asText()).isEqualTo("cancelled");

        assertThat(http().claimRaw(queue(), "").status()).as("nothing left to claim").isEqualTo(204);
        assertError(http().cancel(id), 409, "job_finished");
        assertError(http().result(id), 409, "job_not_succeeded");
        http().assertUnchanged(cancelled);
        assertThat(http().queue(queue()).get("cancelled").asInt()).isEqualTo(1);
        assertThat(http().queue(queue()).get("depth").asInt()).isZero();
    }

    @Test
    default void cancelWhileRunningFencesOffTheWorker() {
        String id = http().submit(queue(), "text/plain", "stop me").get("id").asText();
        String token = http().claim(queue(), "?lease=30s").get("lease").asText();

        Response r = http().cancel(id);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("status").asText()).isEqualTo("cancelled");
        JsonNode cancelled = http().job(id);

        assertError(http().progress(id, token, "{\"percent\":10}"), 409, "lease_lost");
        assertError(http().complete(id, token, "too late"), 409, "lease_lost");
        assertError(http().heartbeat(id, token), 409, "lease_lost");
        assertError(http().fail(id, token, "{\"error\":\"x\",\"retry\":true}"), 409, "lease_lost");
        http().assertUnchanged(cancelled);
        assertThat(cancelled.get("status").asText()).isEqualTo("cancelled");
    }

    @Test
    default void cancellingAFinishedJobIs409AndChangesNothing() {
        String id = http().submit(queue(), "text/plain", "quick").get("id").asText();
        String token = http().claim(queue(), "").get("lease").asText();
        assertThat(http().complete(id, token, "done").status()).isEqualTo(200);
        JsonNode done = http().job(id);

        assertError(http().cancel(id), 409, "job_finished");

        http().assertUnchanged(done);
        assertThat(http().result(id).text()).isEqualTo("done");
    }
}
