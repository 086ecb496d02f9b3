package dev.switchboard.codec.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.testing.TestServer;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Retention input that the server cannot represent is refused with 400 and leaves the topic working. */
@Timeout(60)
class RetentionInputTest {
    private TestServer server;

    @BeforeEach
    void start() {
        server = TestServer.start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private HttpResponse<String> put(String path, String json) {
        return server.send(HttpRequest.newBuilder(server.uri(path)).timeout(Duration.ofSeconds(10))
                .PUT(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    private HttpResponse<String> publish(String topic, String body) {
        return server.send(HttpRequest.newBuilder(server.uri("/v1/topics/" + topic + "/messages"))
                .timeout(Duration.ofSeconds(10)).header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    @Test
    void aMaxAgeBeyondLongMillisIsRefusedAndPublishesKeepWorking() {
        // 999999999999d is 8.64e19 ms: more than a long holds. It used to be accepted by the parser, then overflow in
        // the log writer: 500 for the PUT, and every later publish to the topic hung without an answer.
        assertThat(publish("huge", "before").statusCode()).isEqualTo(201);

        HttpResponse<String> refused = put("/v1/topics/huge", "{\"maxAge\":\"999999999999d\"}");
        assertThat(refused.statusCode()).isEqualTo(400);
        assertThat(refused.body()).contains("invalid_duration");

        HttpResponse<String> after = publish("huge", "after");
        assertThat(after.statusCode()).isEqualTo(201);
        assertThat(after.body()).contains("\"offset\":2");
        assertThat(server.get("/v1/topics/huge").body()).contains("\"retention\":{}");

        HttpResponse<String> refusedNew = put("/v1/topics/fresh", "{\"maxAge\":\"999999999999d\"}");
        assertThat(refusedNew.statusCode()).isEqualTo(400);
        assertThat(server.get("/v1/topics/fresh").statusCode()).as("a refused PUT creates nothing").isEqualTo(404);
    }

    @Test
    void theLargestRepresentableMaxAgeIsKept() {
        HttpResponse<String> ok = put("/v1/topics/long-lived", "{\"maxAge\":\"106751991167d\"}");
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body()).contains("\"maxAge\":\"106751991167d\"");
        assertThat(publish("long-lived", "x").statusCode()).isEqualTo(201);
    }
}
