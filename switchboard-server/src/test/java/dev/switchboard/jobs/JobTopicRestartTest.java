package dev.switchboard.jobs;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A job's events kept in its record until its topic is read (docs/architecture.md, "Jobs without a stored topic per
 * job") survive a restart of the embedded engine, whether the topic was written out before it or not, and the job's
 * later changes continue its topic at the next version. (JobCrashTest reads events after a kill -9.)
 */
@Slow
@Timeout(value = 60, unit = SECONDS)
class JobTopicRestartTest {
    private static final String QUEUE = "restart";

    @Test
    void jobsAndTheirEventsStayReadableAcrossARestartWithVersionsEqualToOffsets() {
        try (TestServer server = TestServer.start()) {
            JobHttp http = new JobHttp(server.http(), server.url());
            String finished = http.submit(QUEUE, "text/plain", "never read").get("id").asText();
            assertThat(http.complete(finished, http.claim(QUEUE, "").get("lease").asText(), "r1").status())
                    .isEqualTo(200);
            String read = http.submit(QUEUE, "text/plain", "read before").get("id").asText();
            assertThat(events(http, read)).hasSize(1);
            String readToken = http.claim(QUEUE, "?lease=60s").get("lease").asText();
            String unread = http.submit(QUEUE, "text/plain", "read after").get("id").asText();
            JsonNode finishedJob = http.job(finished);

            server.restart();

            List<JsonNode> finishedEvents = events(http, finished);
            assertThat(finishedEvents).extracting(m -> m.get("offset").asLong()).containsExactly(1L, 2L, 3L);
            assertThat(finishedEvents.getLast().get("data")).isEqualTo(finishedJob);

            assertThat(http.complete(read, readToken, "r2").status()).isEqualTo(200);
            List<JsonNode> readEvents = events(http, read);
            assertThat(readEvents).extracting(m -> m.get("offset").asLong()).containsExactly(1L, 2L, 3L);
            assertThat(readEvents).extracting(m -> m.get("data").get("status").asText())
                    .containsExactly("queued", "running", "succeeded");
            assertThat(readEvents.getLast().get("data")).isEqualTo(http.job(read));

            JsonNode claim = http.claim(QUEUE, "");
            assertThat(claim.get("id").asText()).isEqualTo(unread);
            List<JsonNode> unreadEvents = events(http, unread);
            assertThat(unreadEvents).extracting(m -> m.get("data").get("version").asLong()).containsExactly(1L, 2L);
            assertThat(unreadEvents).extracting(m -> m.get("offset").asLong()).containsExactly(1L, 2L);
        }
    }

    private static List<JsonNode> events(JobHttp http, String id) {
        JobHttp.Response r = http.get("/v1/topics/" + JobService.topicOf(id) + "/messages?from=earliest");
        assertThat(r.status()).isEqualTo(200);
        List<JsonNode> events = new ArrayList<>();
        r.json().get("messages").forEach(events::add);
        return events;
    }
}
