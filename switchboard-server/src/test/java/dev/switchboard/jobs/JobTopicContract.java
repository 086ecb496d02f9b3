package dev.switchboard.jobs;

import static dev.switchboard.jobs.JobHttp.assertError;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.jobs.JobHttp.Response;
import dev.switchboard.testing.JsonFrames;
import java.net.URI;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link JobApiTest}'s rows for a job's topic: its events over WebSocket, HTTP reads and a consumer group, each the
 * job's state as the job endpoint shows it, and the topic refusing every caller's writes.
 */
interface JobTopicContract extends JobApiFixture {

    @Test
    default void webSocketSubscriberOfTheJobsTopicReceivesItsEvents() throws Exception {
        String id = http().submit(queue(), "text/plain", "ws").get("id").asText();
        String topic = JobService.topicOf(id);
        JsonFrames received = new JsonFrames();
        List<JsonNode> frames = received.ops;
        WebSocket ws = connect(received);
        try {
            ws.sendText("{\"op\":\"subscribe\",\"topic\":\"" + topic + "\",\"from\":\"earliest\",\"id\":\"s1\"}", true)
                    .get(10, SECONDS);
            await().atMost(Duration.ofSeconds(10)).until(() -> messages(frames).size() == 1);
            assertThat(frames).anySatisfy(f -> {
                assertThat(f.get("op").asText()).isEqualTo("subscribed");
                assertThat(f.get("id").asText()).isEqualTo("s1");
            });

            String token = http().claim(queue(), "").get("lease").asText();
            assertThat(http().progress(id, token, "{\"percent\":70}").status()).isEqualTo(200);
            assertThat(http().complete(id, token, "sw").status()).isEqualTo(200);
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
            assertThat(messages.getLast().get("data")).isEqualTo(http().job(id));

            // The topic is the server's: a WebSocket publish to it is refused too.
            ws.sendText("{\"op\":\"publish\",\"topic\":\"" + topic + "\",\"data\":\"forged\",\"id\":\"p1\"}", true)
                    .get(10, SECONDS);
            await().atMost(Duration.ofSeconds(10)).until(() -> frames.stream()
                    .anyMatch(f -> f.path("op").asText().equals("error") && f.path("id").asText().equals("p1")));
            assertThat(frames).filteredOn(f -> f.path("id").asText().equals("p1"))
                    .singleElement().satisfies(f -> assertThat(f.get("code").asText()).isEqualTo("reserved_topic"));
            assertThat(http().job(id).get("version").asLong()).isEqualTo(4);
        } finally {
            ws.abort();
        }
    }

    /** A WebSocket to the server, whose frames {@code received} keeps. */
    private WebSocket connect(JsonFrames received) throws Exception {
        return server().http().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
                .buildAsync(URI.create("ws://127.0.0.1:" + server().port() + "/v1/ws"), received).get(10, SECONDS);
    }

    private static List<JsonNode> messages(List<JsonNode> frames) {
        return frames.stream().filter(f -> f.path("op").asText().equals("message")).toList();
    }

    @Test
    default void everyEventIsTheJobsStateAsTheJobEndpointShowsItWhateverItsTextAndResult() throws Exception {
        String awkward = "quote \" backslash \\ newline \n tab \t bell \u0007 del \u007f é ✓ 😀 </script>";
        String text = http().submit(queue(), "application/json", "{\"n\":1}").get("id").asText();
        String token = http().claim(queue(), "").get("lease").asText();
        Response progressed = http().progress(text, token,
                JobHttp.JSON.writeValueAsString(Map.of("percent", 5, "message", awkward)));
        assertThat(progressed.json().get("progress").get("message").asText()).isEqualTo(awkward);
        assertLatestEventIsTheJob(text);
        assertThat(http().complete(text, token, "application/json", JobHttp.bytes("{\"ok\":[1,2]}")).status())
                .isEqualTo(200);
        assertLatestEventIsTheJob(text);
        assertThat(http().job(text).get("result").get("ok").get(1).asInt()).isEqualTo(2);

        String binary = http().submit(queue(), "text/plain", "b").get("id").asText();
        token = http().claim(queue(), "").get("lease").asText();
        assertThat(http().complete(binary, token, "application/octet-stream", new byte[] {0, (byte) 0xff, 1}).status())
                .isEqualTo(200);
        assertLatestEventIsTheJob(binary);
        assertThat(http().job(binary).get("resultEncoding").asText()).isEqualTo("base64");

        String failed = http().submit(queue(), "text/plain", "f").get("id").asText();
        token = http().claim(queue(), "").get("lease").asText();
        Response f = http().fail(failed, token, JobHttp.JSON.writeValueAsString(Map.of("error", awkward)));
        assertThat(f.json().get("error").asText()).isEqualTo(awkward);
        assertLatestEventIsTheJob(failed);
    }

    @Test
    default void aJobsTopicReadOnlyAfterItFinishedHoldsEveryEventAtItsVersionAndTime() {
        String id = http().submit(queue(), "text/plain", "late reader").get("id").asText();
        String token = http().claim(queue(), "").get("lease").asText();
        assertThat(http().progress(id, token, "{\"percent\":40}").status()).isEqualTo(200);
        assertThat(http().complete(id, token, "done").status()).isEqualTo(200);
        JsonNode job = http().job(id);

        List<JsonNode> events = new ArrayList<>();
        http().get("/v1/topics/" + JobService.topicOf(id) + "/messages?from=earliest").json().get("messages")
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
        Response state = http().get("/v1/topics/" + JobService.topicOf(id));
        assertThat(state.status()).isEqualTo(200);
        assertThat(state.json().get("lastOffset").asLong()).isEqualTo(4);
    }

    @Test
    default void aConsumerGroupIsTheFirstReaderOfAJobsTopicAndGetsEveryEvent() {
        String id = http().submit(queue(), "text/plain", "grouped").get("id").asText();
        String token = http().claim(queue(), "").get("lease").asText();
        assertThat(http().complete(id, token, "done").status()).isEqualTo(200);

        Response fetched = http().post("/v1/topics/" + JobService.topicOf(id) + "/groups/g/fetch?member=m&max=10",
                "application/json", "");

        assertThat(fetched.status()).as(fetched.text()).isEqualTo(200);
        assertThat(fetched.json().get("messages")).extracting(m -> m.get("offset").asLong())
                .containsExactly(1L, 2L, 3L);
        assertThat(fetched.json().get("messages")).extracting(m -> m.get("data").get("status").asText())
                .containsExactly("queued", "running", "succeeded");
    }

    @Test
    default void aSubscriberArrivingMidJobFromNextSeesOnlyTheLaterEventsAtTheirVersions() throws Exception {
        String id = http().submit(queue(), "text/plain", "mid").get("id").asText();
        String token = http().claim(queue(), "").get("lease").asText();
        JsonFrames received = new JsonFrames();
        List<JsonNode> frames = received.ops;
        WebSocket ws = connect(received);
        try {
            ws.sendText("{\"op\":\"subscribe\",\"topic\":\"" + JobService.topicOf(id)
                    + "\",\"from\":\"next\",\"id\":\"mid\"}", true).get(10, SECONDS);
            await().atMost(Duration.ofSeconds(10)).until(() -> frames.stream()
                    .anyMatch(f -> f.get("op").asText().equals("subscribed")));

            assertThat(http().progress(id, token, "{\"percent\":50}").status()).isEqualTo(200);
            assertThat(http().complete(id, token, "mid done").status()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).until(() -> messages(frames).size() == 2);

            assertThat(messages(frames)).extracting(m -> m.get("offset").asLong()).containsExactly(3L, 4L);
            assertThat(messages(frames)).extracting(m -> m.get("data").get("version").asLong())
                    .containsExactly(3L, 4L);
            assertThat(messages(frames).getLast().get("data")).isEqualTo(http().job(id));
        } finally {
            ws.abort();
        }
    }

    private void assertLatestEventIsTheJob(String id) {
        Response events = http().get("/v1/topics/" + JobService.topicOf(id) + "/messages?from=earliest");
        assertThat(events.status()).isEqualTo(200);
        JsonNode job = http().job(id);
        assertThat(events.json().get("messages").get(events.json().get("messages").size() - 1).get("data"))
                .isEqualTo(job);
    }

    @Test
    default void publishingToAJobsTopicOverHttpIsRefused() {
        assertError(http().post("/v1/topics/_jobs.x/messages", "text/plain", "forged"), 403, "reserved_topic");

        JsonNode job = http().submit(queue(), "text/plain", "mine");
        String topic = JobService.topicOf(job.get("id").asText());
        assertError(http().post("/v1/topics/" + topic + "/messages", "application/json",
                "{\"status\":\"succeeded\"}"), 403, "reserved_topic");
        assertError(http().put("/v1/topics/" + topic, "{\"maxMessages\":1}"), 403, "reserved_topic");
        assertError(http().delete("/v1/topics/" + topic), 403, "reserved_topic");

        http().assertUnchanged(job);
        Response events = http().get("/v1/topics/" + topic + "/messages?from=earliest");
        assertThat(events.status()).isEqualTo(200);
        assertThat(events.json().get("messages")).hasSize(1);
        assertThat(new String(events.body(), StandardCharsets.UTF_8)).doesNotContain("forged");
    }
}
