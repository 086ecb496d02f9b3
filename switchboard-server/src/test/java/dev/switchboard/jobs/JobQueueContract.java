package dev.switchboard.jobs;

import static dev.switchboard.jobs.JobHttp.assertError;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.jobs.JobHttp.Response;
import dev.switchboard.testing.RawHttp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * {@link JobApiTest}'s rows for a queue: claims (held, in order, several at once), submit's idempotency key and
 * {@code ?wait=}, and the queue's settings and counts.
 */
interface JobQueueContract extends JobApiFixture {
    /** The workers of the tests whose submit waits for its job to be done. */
    ExecutorService WORKERS = Executors.newVirtualThreadPerTaskExecutor();

    @Test
    default void claimWithWaitAnswers204WhenNothingCame() {
        long start = System.nanoTime();
        Response r = http().claimRaw(queue(), "?wait=1s");
        assertThat(r.status()).isEqualTo(204);
        assertThat(r.body()).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(1000));
    }

    @Test
    default void heldClaimIsWokenBySubmitLongBeforeItsWaitEnds() throws Exception {
        CompletableFuture<Response> held = http().sendAsync("POST", "/v1/queues/" + queue() + "/claim?wait=30s", null);
        await().during(HELD).atMost(Duration.ofSeconds(5)).until(() -> !held.isDone());
        // A job on another queue is not for this claim.
        http().submit(queue() + "-other", "text/plain", "not mine");
        await().during(HELD).atMost(Duration.ofSeconds(5)).until(() -> !held.isDone());

        long submitted = System.nanoTime();
        String id = http().submit(queue(), "text/plain", "wake up").get("id").asText();
        Response r = held.get(10, SECONDS);

        assertThat(Duration.ofNanos(System.nanoTime() - submitted)).isLessThan(Duration.ofSeconds(4));
        assertThat(r.status()).isEqualTo(200);
        JsonNode claim = r.json();
        assertThat(claim.get("id").asText()).isEqualTo(id);
        assertThat(claim.get("status").asText()).isEqualTo("running");
        assertThat(claim.get("payload").asText()).isEqualTo("wake up");
        assertThat(claim.get("payloadType").asText()).isEqualTo("text/plain");
        assertThat(claim.get("lease").asText()).isNotBlank();
        assertThat(http().job(id).get("status").asText()).isEqualTo("running");
    }

    @Test
    default void claimsTakeJobsInSubmissionOrder() {
        List<String> submitted = IntStream.range(0, 6)
                .mapToObj(i -> http().submit(queue(), "text/plain", "job " + i).get("id").asText()).toList();

        List<String> claimed = new ArrayList<>();
        for (int i = 0; i < submitted.size(); i++) {
            JsonNode c = http().claim(queue(), "");
            assertThat(c.get("payload").asText()).isEqualTo("job " + i);
            claimed.add(c.get("id").asText());
        }

        assertThat(claimed).containsExactlyElementsOf(submitted);
        assertThat(http().claimRaw(queue(), "").status()).isEqualTo(204);
    }

    /** The jobs of a {@code ?max=} claim that must get some (200 {@code {"jobs":[…]}}). */
    private List<JsonNode> claimMany(String queue, String query) {
        JsonNode body = http().claim(queue, query);
        assertThat(body.properties()).extracting(Map.Entry::getKey).containsExactly("jobs");
        List<JsonNode> jobs = new ArrayList<>();
        body.get("jobs").forEach(jobs::add);
        return jobs;
    }

    @Test
    default void claimWithMaxTakesUpToThatManyOldestFirstEachWithItsOwnLeaseInOneCommit() {
        List<String> submitted = IntStream.range(0, 5)
                .mapToObj(i -> http().submit(queue(), "text/plain", "job " + i).get("id").asText()).toList();

        List<JsonNode> first = claimMany(queue(), "?max=3&lease=30s");
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
            assertThat(http().job(c.get("id").asText())).isEqualTo(JobHttp.publicPart(c));
        }

        List<JsonNode> rest = claimMany(queue(), "?max=10");
        assertThat(rest).extracting(c -> c.get("id").asText()).containsExactlyElementsOf(submitted.subList(3, 5));
        assertThat(http().claimRaw(queue(), "?max=10").status()).as("nothing left").isEqualTo(204);
        assertCounts(0, 5, 0, 0, 0);
    }

    @Test
    default void completesOfClaimedJobsPipelinedOnOneConnectionAllSucceed() throws Exception {
        for (int i = 0; i < 4; i++) {
            http().submit(queue(), "text/plain", "job " + i);
        }
        List<JsonNode> claimed = claimMany(queue(), "?max=4");
        StringBuilder pipelined = new StringBuilder();
        for (JsonNode c : claimed) {
            String result = JobHttp.reversed(c.get("payload").asText());
            pipelined.append("POST /v1/jobs/").append(c.get("id").asText()).append("/complete HTTP/1.1\r\n")
                    .append("Host: localhost\r\nContent-Type: text/plain\r\n")
                    .append(JobHttp.LEASE_TOKEN).append(": ").append(c.get("lease").asText()).append("\r\n")
                    .append("Content-Length: ").append(result.length()).append("\r\n\r\n").append(result);
        }
        try (RawHttp connection = new RawHttp(server().port(), 10_000)) {
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
    default void aClaimMaxOutsideOneToAHundredIsRefusedAndChangesNothing() {
        JsonNode a = http().submit(queue(), "text/plain", "a");
        JsonNode b = http().submit(queue(), "text/plain", "b");
        for (String query : List.of("?max=0", "?max=101", "?max=abc", "?max=-1", "?max=", "?max=2.5",
                "?max=2&max=3", "?max=101&wait=5s")) {
            assertError(http().claimRaw(queue(), query), 400, "invalid_query");
        }
        http().assertUnchanged(a);
        http().assertUnchanged(b);
        assertCounts(2, 0, 0, 0, 0);
        assertThat(claimMany(queue(), "?max=100")).hasSize(2);
    }

    @Test
    default void aHeldClaimWithMaxIsWokenBySubmitAndAnswersWithWhatCame() throws Exception {
        CompletableFuture<Response> held = http().sendAsync("POST", "/v1/queues/" + queue() + "/claim?max=5&wait=30s",
                null);
        await().during(HELD).atMost(Duration.ofSeconds(5)).until(() -> !held.isDone());

        long submitted = System.nanoTime();
        String id = http().submit(queue(), "text/plain", "wake up").get("id").asText();
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
        assertThat(http().job(id).get("status").asText()).isEqualTo("running");
    }

    @Test
    default void idempotencyKeyReturnsTheSameJob() {
        Response first = http().submitRaw(queue(), "", "text/plain", "once", "Idempotency-Key", "order-17");
        Response again = http().submitRaw(queue(), "", "text/plain", "once", "Idempotency-Key", "order-17");
        assertThat(first.status()).isEqualTo(202);
        assertThat(again.status()).isEqualTo(202);
        String id = first.json().get("id").asText();
        assertThat(again.json().get("id").asText()).isEqualTo(id);
        assertThat(again.header("location")).isEqualTo("/v1/jobs/" + id);
        assertThat(http().queue(queue()).get("depth").asInt()).isEqualTo(1);

        // Still the same job once it moved on.
        String token = http().claim(queue(), "").get("lease").asText();
        assertThat(http().complete(id, token, "ok").status()).isEqualTo(200);
        Response later = http().submitRaw(queue(), "", "text/plain", "once", "Idempotency-Key", "order-17");
        assertThat(later.json().get("id").asText()).isEqualTo(id);
        assertThat(later.json().get("status").asText()).isEqualTo("succeeded");

        String otherKey = http().submitRaw(queue(), "", "text/plain", "twice", "Idempotency-Key", "order-18")
                .json().get("id").asText();
        assertThat(otherKey).isNotEqualTo(id);
        assertThat(http().queue(queue()).get("depth").asInt()).isEqualTo(1);
        assertThat(http().queue(queue()).get("succeeded").asInt()).isEqualTo(1);
    }

    @Test
    default void queueSettingsAndCounts() {
        Response put = http().put("/v1/queues/" + queue(),
                "{\"maxAttempts\":5,\"lease\":\"30s\",\"resultTtl\":\"2h\"}");
        assertThat(put.status()).isEqualTo(200);
        assertThat(put.json().get("maxAttempts").asInt()).isEqualTo(5);
        assertThat(put.json().get("lease").asText()).isEqualTo("30s");
        assertThat(put.json().get("resultTtl").asText()).isEqualTo("2h");
        JsonNode q = http().queue(queue());
        assertThat(q.get("queue").asText()).isEqualTo(queue());
        assertThat(q.get("maxAttempts").asInt()).isEqualTo(5);
        assertThat(q.get("lease").asText()).isEqualTo("30s");
        assertThat(q.get("resultTtl").asText()).isEqualTo("2h");

        String[] ids = IntStream.range(0, 5)
                .mapToObj(i -> http().submit(queue(), "text/plain", "n" + i).get("id").asText()).toArray(String[]::new);
        assertCounts(5, 0, 0, 0, 0);
        JsonNode a = http().claim(queue(), "");
        // A claim without lease= gets the queue's lease.
        long leaseMillis = java.time.Instant.parse(a.get("leaseExpires").asText()).toEpochMilli()
                - java.time.Instant.parse(a.get("updated").asText()).toEpochMilli();
        assertThat(leaseMillis).isEqualTo(30_000);
        assertThat(http().complete(ids[0], a.get("lease").asText(), "ok").status()).isEqualTo(200);
        JsonNode b = http().claim(queue(), "");
        assertThat(http().fail(ids[1], b.get("lease").asText(), "{\"error\":\"no\",\"retry\":false}").status())
                .isEqualTo(200);
        http().claim(queue(), "");
        assertThat(http().cancel(ids[2]).status()).isEqualTo(200);
        http().claim(queue(), "");

        assertCounts(1, 1, 1, 1, 1);

        // Bad settings are refused and change nothing.
        assertError(http().put("/v1/queues/" + queue(), "{\"maxAttempts\":0}"), 400, "invalid_queue");
        assertError(http().put("/v1/queues/" + queue(), "{\"lease\":\"0s\"}"), 400, "invalid_queue");
        assertError(http().put("/v1/queues/" + queue(), "{\"lease\":\"soon\"}"), 400, "invalid_duration");
        assertError(http().put("/v1/queues/" + queue(), "{\"maxAttemps\":3}"), 400, "invalid_queue");
        assertError(http().put("/v1/queues/" + queue(), "{\"maxAttempts\":"), 400, "invalid_json");
        JsonNode after = http().queue(queue());
        assertThat(after.get("maxAttempts").asInt()).isEqualTo(5);
        assertThat(after.get("lease").asText()).isEqualTo("30s");
        assertThat(after.get("resultTtl").asText()).isEqualTo("2h");

        assertError(http().get("/v1/queues/" + queue() + "-never-used"), 404, "queue_not_found");
    }

    private void assertCounts(int depth, int running, int succeeded, int failed, int cancelled) {
        JsonNode q = http().queue(queue());
        assertThat(List.of(q.get("depth").asInt(), q.get("running").asInt(), q.get("succeeded").asInt(),
                q.get("failed").asInt(), q.get("cancelled").asInt()))
                .as("depth, running, succeeded, failed, cancelled of %s", q)
                .containsExactly(depth, running, succeeded, failed, cancelled);
    }

    @Test
    default void submitWithWaitAnswers200WithTheResultOfAFastJob() throws Exception {
        CompletableFuture<Response> worker = CompletableFuture.supplyAsync(() -> {
            JsonNode c = http().claim(queue(), "?wait=20s");
            return http().complete(c.get("id").asText(), c.get("lease").asText(),
                    c.get("payload").asText().toUpperCase());
        }, WORKERS);

        Response r = http().submitRaw(queue(), "?wait=20s", "text/plain", "fast");

        assertThat(r.status()).isEqualTo(200);
        JsonNode job = r.json();
        assertThat(job.get("status").asText()).isEqualTo("succeeded");
        assertThat(job.get("result").asText()).isEqualTo("FAST");
        assertThat(r.header("location")).isEqualTo("/v1/jobs/" + job.get("id").asText());
        assertThat(worker.get(10, SECONDS).status()).isEqualTo(200);
        // Answered by the commit that finished the job, once its events were readable: the last one is the answer.
        Response events = http().get("/v1/topics/" + JobService.topicOf(job.get("id").asText())
                + "/messages?from=earliest");
        JsonNode messages = events.json().get("messages");
        assertThat(messages.get(messages.size() - 1).get("data")).isEqualTo(job);
        assertThat(messages.get(messages.size() - 1).get("offset").asLong()).isEqualTo(job.get("version").asLong());
    }

    @Test
    default void submitWithWaitAnswers202ForASlowJob() throws Exception {
        CompletableFuture<Response> submitted = new CompletableFuture<>();
        CompletableFuture<Response> worker = CompletableFuture.supplyAsync(() -> {
            JsonNode c = http().claim(queue(), "?wait=20s");
            submitted.join(); // a slow worker: finishes only after the submitter stopped waiting
            return http().complete(c.get("id").asText(), c.get("lease").asText(), "late");
        }, WORKERS);
        await().during(HELD).atMost(Duration.ofSeconds(5)).until(() -> !worker.isDone());

        long start = System.nanoTime();
        Response r = http().submitRaw(queue(), "?wait=1s", "text/plain", "slow");
        submitted.complete(r);

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(1000));
        assertThat(r.status()).isEqualTo(202);
        JsonNode job = r.json();
        String id = job.get("id").asText();
        assertThat(r.header("location")).isEqualTo("/v1/jobs/" + id);
        assertThat(job.get("status").asText()).isEqualTo("running");
        assertThat(job.has("result")).isFalse();

        assertThat(worker.get(10, SECONDS).status()).isEqualTo(200);
        assertThat(http().job(id).get("result").asText()).isEqualTo("late");
    }
}
