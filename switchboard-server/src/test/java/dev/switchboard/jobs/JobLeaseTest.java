package dev.switchboard.jobs;

import static dev.switchboard.jobs.JobHttp.assertError;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.jobs.JobHttp.Response;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.testing.TestServer;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * Leases and fencing (expiry requeues, max attempts, heartbeats, fail with and without retry), and bad input: each
 * refusal has docs/api.md's error shape and leaves the job exactly as it was.
 */
@Timeout(value = 60, unit = SECONDS)
@TestInstance(TestInstance.Lifecycle.PER_CLASS) // a subclass chooses the server (newServer)
class JobLeaseTest {
    private static final int MAX_BYTES = 4096;

    private static TestServer server;
    private static JobHttp http;
    private String queue;

    @BeforeAll
    void startServer() {
        server = newServer(cfg -> cfg.withLimits(cfg.limits().withMaxMessageBytes(MAX_BYTES)));
        http = new JobHttp(server.http(), server.url());
    }

    @AfterAll
    void stopServer() {
        server.close();
    }

    /** The server these tests run against: on the embedded engine here, on Redis in {@link RedisJobLeaseTest}. */
    TestServer newServer(UnaryOperator<ServerConfig> customize) {
        return TestServer.start(customize);
    }

    @BeforeEach
    void queueOfTest(TestInfo test) {
        queue = "lease-" + test.getTestMethod().orElseThrow().getName();
    }

    private JsonNode awaitJob(String id, String status, int attempt) {
        AtomicReference<JsonNode> last = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(50)).until(() -> {
            JsonNode j = http.job(id);
            last.set(j);
            return j.get("status").asText().equals(status) && j.get("attempt").asInt() == attempt;
        });
        return last.get();
    }

    private static Instant time(JsonNode n, String field) {
        return Instant.parse(n.get(field).asText());
    }

    @Test
    void anExpiredLeaseRequeuesWithTheNextAttemptUntilMaxAttemptsThenFails() {
        assertThat(http.put("/v1/queues/" + queue, "{\"maxAttempts\":2}").status()).isEqualTo(200);
        String id = http.submit(queue, "text/plain", "forgotten").get("id").asText();

        JsonNode first = http.claim(queue, "?lease=1s");
        assertThat(first.get("attempt").asInt()).isEqualTo(1);
        JsonNode requeued = awaitJob(id, "queued", 2);
        assertThat(time(requeued, "updated")).as("requeued only once the lease expired")
                .isAfterOrEqualTo(time(first, "leaseExpires"));
        assertThat(requeued.get("error").asText()).contains("lease expired");

        JsonNode second = http.claim(queue, "?lease=1s");
        assertThat(second.get("id").asText()).isEqualTo(id);
        assertThat(second.get("attempt").asInt()).isEqualTo(2);
        assertThat(second.get("lease").asText()).isNotEqualTo(first.get("lease").asText());
        assertThat(second.get("payload").asText()).isEqualTo("forgotten");

        JsonNode failed = awaitJob(id, "failed", 2);
        assertThat(failed.get("error").asText()).contains("lease expired").contains("2 of 2");
        JsonNode q = http.queue(queue);
        assertThat(q.get("failed").asInt()).isEqualTo(1);
        assertThat(q.get("depth").asInt()).isZero();
        assertThat(q.get("running").asInt()).isZero();
        assertThat(http.claimRaw(queue, "").status()).isEqualTo(204);
        assertError(http.complete(id, second.get("lease").asText(), "too late"), 409, "lease_lost", "lease_expired");
        http.assertUnchanged(failed);
    }

    @Test
    void aStaleWorkerIsFencedOffAndTheNewWorkersResultWins() {
        String id = http.submit(queue, "text/plain", "contested").get("id").asText();
        String stale = http.claim(queue, "?lease=1s").get("lease").asText();
        awaitJob(id, "queued", 2);
        JsonNode fresh = http.claim(queue, "?lease=30s");
        assertThat(fresh.get("attempt").asInt()).isEqualTo(2);
        String token = fresh.get("lease").asText();
        JsonNode running = http.job(id);

        assertError(http.complete(id, stale, "from the stale worker"), 409, "lease_lost", "lease_expired");
        assertError(http.progress(id, stale, "{\"percent\":99}"), 409, "lease_lost", "lease_expired");
        assertError(http.heartbeat(id, stale), 409, "lease_lost", "lease_expired");
        assertError(http.fail(id, stale, "{\"error\":\"stale\",\"retry\":false}"), 409, "lease_lost",
                "lease_expired");
        http.assertUnchanged(running);

        assertThat(http.progress(id, token, "{\"percent\":50}").status()).isEqualTo(200);
        Response done = http.complete(id, token, "from the new worker");
        assertThat(done.status()).isEqualTo(200);
        assertThat(done.json().get("status").asText()).isEqualTo("succeeded");
        assertThat(done.json().get("attempt").asInt()).isEqualTo(2);

        assertError(http.complete(id, stale, "from the stale worker"), 409, "lease_lost", "lease_expired");
        assertThat(http.result(id).text()).isEqualTo("from the new worker");
        assertThat(http.job(id).get("result").asText()).isEqualTo("from the new worker");
    }

    @Test
    void heartbeatsKeepALeaseAlivePastItsOriginalExpiry() {
        String id = http.submit(queue, "text/plain", "long work").get("id").asText();
        JsonNode claim = http.claim(queue, "?lease=2s");
        String token = claim.get("lease").asText();
        Instant originalExpiry = time(claim, "leaseExpires");
        Instant until = originalExpiry.plusSeconds(2);

        // Heartbeat every 250 ms until twice the lease has passed.
        AtomicReference<Instant> lastExpiry = new AtomicReference<>(originalExpiry);
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250)).until(() -> {
            Response hb = http.heartbeat(id, token);
            assertThat(hb.status()).as("heartbeat %s", hb).isEqualTo(200);
            assertThat(hb.json().get("status").asText()).isEqualTo("running");
            Instant expiry = time(hb.json(), "leaseExpires");
            assertThat(expiry).isAfterOrEqualTo(lastExpiry.get());
            lastExpiry.set(expiry);
            return Instant.now().isAfter(until);
        });

        JsonNode job = http.job(id);
        assertThat(job.get("status").asText()).isEqualTo("running");
        assertThat(job.get("attempt").asInt()).isEqualTo(1);
        assertThat(job.get("version").asLong()).as("a heartbeat is not a visible change").isEqualTo(2);
        assertThat(lastExpiry.get()).isAfter(originalExpiry.plusSeconds(1));
        Response done = http.complete(id, token, "finished");
        assertThat(done.status()).isEqualTo(200);
        assertThat(done.json().get("attempt").asInt()).isEqualTo(1);
    }

    @Test
    void failWithRetryRequeuesAndWithoutRetryFails() {
        assertThat(http.put("/v1/queues/" + queue, "{\"maxAttempts\":2}").status()).isEqualTo(200);
        String id = http.submit(queue, "text/plain", "flaky").get("id").asText();

        String t1 = http.claim(queue, "").get("lease").asText();
        Response retried = http.fail(id, t1, "{\"error\":\"timeout upstream\",\"retry\":true}");
        assertThat(retried.status()).isEqualTo(200);
        assertThat(retried.json().get("status").asText()).isEqualTo("queued");
        assertThat(retried.json().get("attempt").asInt()).isEqualTo(2);
        assertThat(retried.json().get("error").asText()).isEqualTo("timeout upstream");
        assertError(http.complete(id, t1, "late"), 409, "lease_lost");

        JsonNode again = http.claim(queue, "");
        assertThat(again.get("id").asText()).isEqualTo(id);
        assertThat(again.get("attempt").asInt()).isEqualTo(2);
        Response failed = http.fail(id, again.get("lease").asText(), "{\"error\":\"bad input\",\"retry\":false}");
        assertThat(failed.status()).isEqualTo(200);
        assertThat(failed.json().get("status").asText()).isEqualTo("failed");
        assertThat(failed.json().get("attempt").asInt()).isEqualTo(2);
        assertThat(failed.json().get("error").asText()).isEqualTo("bad input");
        assertThat(http.claimRaw(queue, "").status()).isEqualTo(204);

        // A retryable failure on the last attempt fails for good.
        String id2 = http.submit(queue, "text/plain", "doomed").get("id").asText();
        http.fail(id2, http.claim(queue, "").get("lease").asText(), "{\"error\":\"e1\",\"retry\":true}");
        Response last = http.fail(id2, http.claim(queue, "").get("lease").asText(),
                "{\"error\":\"e2\",\"retry\":true}");
        assertThat(last.json().get("status").asText()).isEqualTo("failed");
        assertThat(last.json().get("error").asText()).contains("e2").contains("2 of 2");
        assertThat(http.queue(queue).get("failed").asInt()).isEqualTo(2);
    }

    // ---- bad input: the error shape, and nothing changes ----

    @Test
    void unknownJobIs404() {
        String none = "/v1/jobs/nosuchjob";
        assertError(http.get(none), 404, "job_not_found");
        assertError(http.get(none + "?wait=1s&version=1"), 404, "job_not_found");
        assertError(http.get(none + "/result"), 404, "job_not_found");
        assertError(http.get(none + "/events"), 404, "job_not_found");
        assertError(http.delete(none), 404, "job_not_found");
        assertError(http.progress("nosuchjob", "t", "{\"percent\":1}"), 404, "job_not_found");
        assertError(http.heartbeat("nosuchjob", "t"), 404, "job_not_found");
        assertError(http.complete("nosuchjob", "t", "r"), 404, "job_not_found");
        assertError(http.fail("nosuchjob", "t", "{}"), 404, "job_not_found");
        assertThat(http.get(none).status()).isEqualTo(404);
    }

    @Test
    void missingLeaseTokenIs400() {
        String id = http.submit(queue, "text/plain", "p").get("id").asText();
        String token = http.claim(queue, "").get("lease").asText();
        JsonNode before = http.job(id);

        assertError(http.progress(id, null, "{\"percent\":5}"), 400, "missing_lease_token");
        assertError(http.heartbeat(id, null), 400, "missing_lease_token");
        assertError(http.complete(id, null, "r"), 400, "missing_lease_token");
        assertError(http.fail(id, null, "{\"error\":\"e\"}"), 400, "missing_lease_token");
        assertError(http.complete(id, " ", "r"), 400, "missing_lease_token");

        http.assertUnchanged(before);
        assertThat(http.complete(id, token, "r").status()).as("the real lease still holds").isEqualTo(200);
    }

    @Test
    void wrongLeaseTokenIs409() {
        String id = http.submit(queue, "text/plain", "p").get("id").asText();
        String token = http.claim(queue, "").get("lease").asText();
        JsonNode before = http.job(id);
        String wrong = "not-" + token;

        assertError(http.progress(id, wrong, "{\"percent\":5}"), 409, "lease_lost");
        assertError(http.heartbeat(id, wrong), 409, "lease_lost");
        assertError(http.complete(id, wrong, "r"), 409, "lease_lost");
        assertError(http.fail(id, wrong, "{\"error\":\"e\"}"), 409, "lease_lost");

        http.assertUnchanged(before);
        assertThat(http.complete(id, token, "r").status()).isEqualTo(200);
    }

    @Test
    void resultOfACancelledJobIs409() {
        String id = http.submit(queue, "text/plain", "p").get("id").asText();
        assertThat(http.cancel(id).status()).isEqualTo(200);
        JsonNode cancelled = http.job(id);

        assertError(http.result(id), 409, "job_not_succeeded");

        http.assertUnchanged(cancelled);
    }

    @Test
    void oversizedPayloadOrResultIs413() {
        String small = http.submit(queue, "text/plain", "small").get("id").asText();
        String tooBig = "x".repeat(MAX_BYTES + 1);

        assertError(http.submitRaw(queue, "", "text/plain", tooBig), 413);
        assertThat(http.queue(queue).get("depth").asInt()).as("no job was added").isEqualTo(1);

        String token = http.claim(queue, "").get("lease").asText();
        JsonNode running = http.job(small);
        assertError(http.complete(small, token, tooBig), 413);
        assertError(http.progress(small, token, "{\"message\":\"" + "m".repeat(2000) + "\"}"), 400,
                "invalid_progress");
        http.assertUnchanged(running);

        assertThat(http.complete(small, token, "x".repeat(MAX_BYTES)).status()).isEqualTo(200);
    }

    @Test
    void badDurationsAre400() {
        JsonNode queued = http.submit(queue, "text/plain", "p");
        String id = queued.get("id").asText();

        assertError(http.claimRaw(queue, "?wait=5x"), 400, "invalid_duration");
        assertError(http.claimRaw(queue, "?lease=0s"), 400, "invalid_duration");
        assertError(http.claimRaw(queue, "?lease=48h"), 400, "invalid_duration");
        assertError(http.claimRaw(queue, "?lease=500ms"), 400, "invalid_duration");
        assertError(http.claimRaw(queue, "?wait=10m"), 400, "invalid_duration");
        assertError(http.claimRaw(queue, "?wait=-1s"), 400, "invalid_duration");
        assertError(http.get("/v1/jobs/" + id + "?wait=5x"), 400, "invalid_duration");
        assertError(http.get("/v1/jobs/" + id + "?wait=10m&version=1"), 400, "invalid_duration");
        assertError(http.get("/v1/jobs/" + id + "?wait=1s&version=abc"), 400, "invalid_version");
        assertError(http.submitRaw(queue, "?wait=5x", "text/plain", "q"), 400, "invalid_duration");
        assertError(http.submitRaw(queue, "?wait=10m", "text/plain", "q"), 400, "invalid_duration");

        http.assertUnchanged(queued);
        JsonNode q = http.queue(queue);
        assertThat(q.get("depth").asInt()).as("no job added, none claimed: %s", q).isEqualTo(1);
        assertThat(q.get("running").asInt()).isZero();
    }

    @Test
    void invalidProgressIs400() {
        String id = http.submit(queue, "text/plain", "p").get("id").asText();
        String token = http.claim(queue, "").get("lease").asText();
        JsonNode before = http.job(id);

        assertError(http.progress(id, token, "{\"percent\":150}"), 400, "invalid_progress");
        assertError(http.progress(id, token, "{\"percent\":-1}"), 400, "invalid_progress");
        assertError(http.progress(id, token, "{\"percent\":\"half\"}"), 400, "invalid_progress");
        assertError(http.progress(id, token, "{\"percent\":12.5}"), 400, "invalid_progress");
        assertError(http.progress(id, token, "{\"message\":7}"), 400, "invalid_progress");
        assertError(http.progress(id, token, "percent=50"), 400, "invalid_json");
        assertError(http.progress(id, token, "[50]"), 400, "invalid_json");
        assertError(http.fail(id, token, "{\"error\":\"e\",\"retry\":\"yes\"}"), 400, "invalid_error");
        assertError(http.fail(id, token, "not json"), 400, "invalid_json");

        http.assertUnchanged(before);
        Response ok = http.progress(id, token, "{\"percent\":100}");
        assertThat(ok.status()).isEqualTo(200);
        assertThat(ok.json().get("version").asLong()).isEqualTo(before.get("version").asLong() + 1);
    }

    @Test
    void invalidJsonPayloadOrResultIs400() {
        String id = http.submit(queue, "text/plain", "p").get("id").asText();

        assertError(http.submitRaw(queue, "", "application/json", "{\"half\":"), 400, "invalid_json");
        assertThat(http.queue(queue).get("depth").asInt()).as("no job was added").isEqualTo(1);

        String token = http.claim(queue, "").get("lease").asText();
        JsonNode running = http.job(id);
        assertError(http.complete(id, token, "application/json", JobHttp.bytes("{oops")), 400, "invalid_json");
        http.assertUnchanged(running);
        assertThat(http.complete(id, token, "application/json", JobHttp.bytes("{\"ok\":true}")).status())
                .isEqualTo(200);
        assertThat(http.job(id).get("result").get("ok").asBoolean()).isTrue();
    }

    @Test
    void badSubmitsAre400AndAddNothing() {
        http.submit(queue, "text/plain", "p");

        assertError(http.submitRaw(queue, "", "text/plain", "q", "Idempotency-Key", "k".repeat(300)), 400,
                "invalid_idempotency_key");
        assertError(http.submitRaw("bad..name", "", "text/plain", "q"), 400, "invalid_topic");
        assertError(http.submitRaw(queue, "", "text/" + "x".repeat(300), "q"), 400, "invalid_type");
        assertError(http.send("GET", "/v1/queues/" + queue + "/jobs", null), 405, "method_not_allowed");

        assertThat(http.queue(queue).get("depth").asInt()).isEqualTo(1);
    }
}
