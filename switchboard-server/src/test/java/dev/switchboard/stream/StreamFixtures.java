package dev.switchboard.stream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

/** Small HTTP helpers shared by the streaming tests: publish, describe, read JSON. */
final class StreamFixtures {
    static final ObjectMapper JSON = new ObjectMapper();

    private StreamFixtures() {}

    static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + text, e);
        }
    }

    static JsonNode json(byte[] utf8) {
        return json(new String(utf8, StandardCharsets.UTF_8));
    }

    /** Publishes and returns the stored offset; fails the test unless the server answers 201. */
    static long publish(TestServer server, String topic, String contentType, String body) {
        HttpResponse<String> r = server.post("/v1/topics/" + topic + "/messages", contentType, body);
        assertThat(r.statusCode()).as("publish to %s: %s", topic, r.body()).isEqualTo(201);
        return json(r.body()).get("offset").asLong();
    }

    static long publish(TestServer server, String topic, String text) {
        return publish(server, topic, "text/plain; charset=utf-8", text);
    }

    static long publishBytes(TestServer server, String topic, String contentType, byte[] body) {
        HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/v1/topics/" + topic + "/messages"))
                .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
        assertThat(r.statusCode()).as("publish to %s: %s", topic, r.body()).isEqualTo(201);
        return json(r.body()).get("offset").asLong();
    }

    static JsonNode describe(TestServer server, String topic) {
        HttpResponse<String> r = server.get("/v1/topics/" + topic);
        assertThat(r.statusCode()).as("describe %s: %s", topic, r.body()).isEqualTo(200);
        return json(r.body());
    }

    /** Live push subscribers of a stored topic on one transport; a transport with none may be absent (0). */
    static int subscribers(TestServer server, String topic, String transport) {
        return describe(server, topic).path("subscribers").path(transport).asInt(0);
    }

    static void setRetention(TestServer server, String topic, String retentionJson) {
        HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/v1/topics/" + topic))
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(retentionJson))
                .build());
        assertThat(r.statusCode()).as("retention of %s: %s", topic, r.body()).isEqualTo(200);
    }
}
