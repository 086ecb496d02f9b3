package dev.switchboard.jobs;

import static dev.switchboard.jobs.JobHttp.assertError;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testing.TestServer;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The result-TTL sweep (docs/api.md: a finished job, its payload, result and event topic are deleted resultTtl after
 * it finished). The sweep runs once a minute and once at start, so a restart past the TTL makes it run now.
 */
@Timeout(value = 60, unit = SECONDS)
class JobResultTtlTest {
    private static final String QUEUE = "ttl";

    @Test
    void aFinishedJobIsDeletedWithItsTopicAndKeyOnceItsTtlPassedAndUnfinishedJobsStay() {
        try (TestServer server = newServer()) {
            JobHttp http = new JobHttp(server.http(), server.url());
            assertThat(http.put("/v1/queues/" + QUEUE, "{\"resultTtl\":\"1s\"}").status()).isEqualTo(200);
            String done = http.submitRaw(QUEUE, "", "text/plain", "p", "Idempotency-Key", "k1").json()
                    .get("id").asText();
            String token = http.claim(QUEUE, "").get("lease").asText();
            JsonNode finished = http.complete(done, token, "r").json();
            // Read once, so its topic is stored and must go with it; the other finished job's never was.
            assertThat(http.get("/v1/topics/" + JobService.topicOf(done) + "/messages?from=earliest").json()
                    .get("messages")).hasSize(3);
            String unread = http.submit(QUEUE, "text/plain", "never read").get("id").asText();
            assertThat(http.complete(unread, http.claim(QUEUE, "").get("lease").asText(), "r").status())
                    .isEqualTo(200);
            String waiting = http.submit(QUEUE, "text/plain", "still queued").get("id").asText();
            await().atMost(Duration.ofSeconds(5)).until(() ->
                    Instant.now().isAfter(Instant.parse(finished.get("updated").asText()).plusSeconds(1)));

            server.restart();

            await().atMost(Duration.ofSeconds(20)).until(() -> http.get("/v1/jobs/" + done).status() == 404);
            assertError(http.get("/v1/jobs/" + done), 404, "job_not_found");
            assertError(http.get("/v1/jobs/" + done + "/result"), 404, "job_not_found");
            assertError(http.get("/v1/topics/" + JobService.topicOf(done)), 404, "topic_not_found");
            await().atMost(Duration.ofSeconds(20)).until(() -> http.get("/v1/jobs/" + unread).status() == 404);
            assertError(http.get("/v1/topics/" + JobService.topicOf(unread)), 404, "topic_not_found");
            assertThat(http.job(waiting).get("status").asText()).isEqualTo("queued");
            JsonNode q = http.queue(QUEUE);
            assertThat(q.get("succeeded").asInt()).isZero();
            assertThat(q.get("depth").asInt()).isEqualTo(1);

            String again = http.submitRaw(QUEUE, "", "text/plain", "p", "Idempotency-Key", "k1").json()
                    .get("id").asText();
            assertThat(again).as("the key went with the job").isNotEqualTo(done);
        }
    }

    /** The server this test runs against: on the embedded engine here, on Redis in {@link RedisJobResultTtlTest}. */
    TestServer newServer() {
        return TestServer.start();
    }
}
