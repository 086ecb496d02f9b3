package dev.switchboard.jobs;

import static dev.switchboard.jobs.JobHttp.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testing.JsonFrames;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.SmallDisk;
import dev.switchboard.testing.SseParser;
import dev.switchboard.testing.TestServer;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job's topic is written out when first read (docs/architecture.md, "Jobs without a stored topic per job"), so
 * reading it is a change: while the disk is full, that change is refused, and every reader of the topic gets the
 * refusal at once instead of waiting for events that stay in the job's record (a long poll, SSE streams, a WebSocket
 * subscribe). The server serves everything else meanwhile, and once there is room again a read writes the topic out
 * with the job's events at offsets 1, 2, 3. The data directory is on a small tmpfs of its own, as in DiskFullTest.
 */
@Slow
@Timeout(300)
class JobTopicDiskFullTest {
    private static final String QUEUE = "full";
    /** Far longer than a refused write-out takes to answer: a reader that waits for it instead fails the test. */
    private static final Duration ANSWER_WITHIN = Duration.ofSeconds(20);

    @TempDir
    Path tmp;

    @Test
    void readersOfAJobTopicTheFullDiskCannotWriteOutAreRefusedAtOnceAndReadItsEventsOnceThereIsRoom()
            throws Exception {
        try (SmallDisk disk = SmallDisk.mount(tmp.resolve("small"), 24);
             TestServer server = TestServer.startIn(disk.path().resolve("data"), UnaryOperator.identity())) {
            JobHttp http = new JobHttp(server.http(), server.url());
            String id = http.submit(QUEUE, "text/plain", "work").get("id").asText();
            String lease = http.claim(QUEUE, "").get("lease").asText();
            assertThat(http.complete(id, lease, "done").status()).isEqualTo(200);
            String topic = JobService.topicOf(id);

            Path freedLater = disk.fill("freed-later", 3);
            disk.fill("kept", 5);
            fillUntilRefused(http);

            JobHttp.Response held = get(http, "/v1/topics/" + topic + "/messages?from=next&wait=60s");
            assertError(held, 503, "unavailable");
            assertThat(held.json().at("/error/message").asText()).contains("no space left on device");
            assertError(get(http, "/v1/topics/" + topic + "/messages?from=1"), 503, "unavailable");
            assertError(get(http, "/v1/topics/" + topic + "/events?from=earliest"), 503, "unavailable");
            assertError(get(http, "/v1/jobs/" + id + "/events"), 503, "unavailable");
            assertError(get(http, "/v1/events?topic=" + topic + "&from=earliest"), 503, "unavailable");
            assertError(get(http, "/v1/messages?topic=" + topic + "&wait=60s"), 503, "unavailable");

            JsonFrames frames = new JsonFrames();
            WebSocket ws = JsonFrames.connect(server, null, "", frames);
            ws.sendText("{\"op\":\"subscribe\",\"topic\":\"" + topic + "\",\"from\":\"earliest\",\"id\":\"s1\"}", true)
                    .join();
            JsonNode refused = frames.reply("s1");
            assertThat(refused.get("op").asText()).as(refused.toString()).isEqualTo("error");
            assertThat(refused.get("code").asText()).as(refused.toString()).isEqualTo("unavailable");

            // Everything else is served meanwhile: the job, other topics, the connection that was refused.
            assertThat(http.job(id).get("status").asText()).isEqualTo("succeeded");
            assertThat(get(http, "/v1/topics/filler/messages?from=1&limit=1").status()).isEqualTo(200);
            ws.sendText("{\"op\":\"subscribe\",\"topic\":\"filler\",\"from\":\"earliest\",\"id\":\"s2\"}", true).join();
            assertThat(frames.reply("s2").get("op").asText()).isEqualTo("subscribed");

            Files.delete(freedLater);
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> server.get("/readyz").statusCode() == 200);

            JobHttp.Response read = get(http, "/v1/topics/" + topic + "/messages?from=earliest");
            assertThat(read.status()).as(read.toString()).isEqualTo(200);
            List<JsonNode> events = new ArrayList<>();
            read.json().get("messages").forEach(events::add);
            assertThat(events).extracting(m -> m.get("offset").asLong()).containsExactly(1L, 2L, 3L);
            assertThat(events).extracting(m -> m.at("/data/status").asText())
                    .containsExactly("queued", "running", "succeeded");

            ws.sendText("{\"op\":\"subscribe\",\"topic\":\"" + topic + "\",\"from\":\"earliest\",\"id\":\"s3\"}", true)
                    .join();
            assertThat(frames.reply("s3").get("op").asText()).isEqualTo("subscribed");
            Awaitility.await().atMost(ANSWER_WITHIN).until(() -> frames.ops.stream()
                    .filter(o -> topic.equals(o.path("topic").asText()) && "message".equals(o.path("op").asText()))
                    .count() == 3);
            JobHttp.Response stream = http.send(http.request("/v1/jobs/" + id + "/events").timeout(ANSWER_WITHIN)
                    .header("Last-Event-ID", "0").GET().build());
            assertThat(SseParser.parseAll(stream.body())).as("the job's stream, which ends after its last status")
                    .extracting(SseParser.Event::id).containsExactly("1", "2", "3");
            ws.abort();
        }
    }

    /** A GET that must be answered within {@link #ANSWER_WITHIN}, however long its own wait. */
    private static JobHttp.Response get(JobHttp http, String path) {
        return http.send(http.request(path).timeout(ANSWER_WITHIN).GET().build());
    }

    /** Publishes 60 KiB messages until the log refuses one for want of space. */
    private static void fillUntilRefused(JobHttp http) {
        byte[] payload = new byte[60 * 1024];
        new Random(1).nextBytes(payload);
        for (int i = 0; ; i++) {
            assertThat(i).as("publishes before 24 MiB filled up").isLessThan(5_000);
            JobHttp.Response r = http.post("/v1/topics/filler/messages", "application/octet-stream", payload);
            if (r.status() != 201) {
                assertError(r, 503, "unavailable");
                assertThat(r.json().at("/error/message").asText()).contains("no space left on device");
                return;
            }
        }
    }
}
