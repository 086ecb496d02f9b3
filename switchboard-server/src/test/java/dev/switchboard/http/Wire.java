package dev.switchboard.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.Limits;
import dev.switchboard.testing.RawHttp;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Pattern;

/** Helpers shared by the black-box HTTP tests: JSON parsing and the API's error shape (of {@link RawHttp} too). */
final class Wire {
    static final ObjectMapper JSON = new ObjectMapper();
    /** docs/api.md's time format: UTC with milliseconds, e.g. {@code 2026-11-23T14:00:00.123Z}. */
    static final Pattern TIME = Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z");

    private Wire() {}

    /** {@code limits} with another request head timeout. */
    static Limits withHeaderTimeout(Limits l, Duration timeout) {
        return l.withRequestTimeouts(timeout, l.idleTimeout());
    }

    static JsonNode json(String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + body, e);
        }
    }

    static JsonNode json(HttpResponse<String> r) {
        return json(r.body());
    }

    /** Status, JSON content type and exactly {@code {"error":{"code":…,"message":…}}} with the expected code. */
    static void assertError(int status, String code, int actualStatus, String contentType, String body) {
        assertError("the answer", status, code, actualStatus, contentType, body);
    }

    /** As above; {@code what} names the answer in failure messages (which request got it). */
    static void assertError(String what, int status, String code, int actualStatus, String contentType, String body) {
        assertThat(actualStatus).as("%s: status of %s", what, body).isEqualTo(status);
        assertThat(contentType).as("%s: content type", what).startsWith("application/json");
        JsonNode root = json(body);
        assertThat(root.isObject()).as("%s: a JSON object: %s", what, body).isTrue();
        assertThat(root.size()).as("%s: only an 'error' field: %s", what, body).isEqualTo(1);
        JsonNode error = root.get("error");
        assertThat(error).as("%s: error object in %s", what, body).isNotNull();
        assertThat(error.isObject()).as("%s: error is an object: %s", what, body).isTrue();
        assertThat(error.path("code").isTextual()).as("%s: error.code is a string: %s", what, body).isTrue();
        assertThat(error.path("code").asText()).as("%s: error.code", what).isEqualTo(code);
        assertThat(error.path("message").isTextual()).as("%s: error.message is a string: %s", what, body).isTrue();
        assertThat(error.path("message").asText()).as("%s: error.message", what).isNotBlank();
    }

    static void assertError(HttpResponse<String> r, int status, String code) {
        assertError("the answer", r, status, code);
    }

    static void assertError(String what, HttpResponse<String> r, int status, String code) {
        assertError(what, status, code, r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
    }

    static void assertError(RawHttp.Response r, int status, String code) {
        assertError("the answer", r, status, code);
    }

    static void assertError(String what, RawHttp.Response r, int status, String code) {
        assertError(what, status, code, r.status(), r.header("content-type"), r.body());
    }

    static HttpResponse<String> publish(TestServer s, String topic, String type, String body) {
        return s.post("/v1/topics/" + topic + "/messages", type, body);
    }

    /** Publishes text and returns its offset, asserting the 201. */
    static long publishText(TestServer s, String topic, String body) {
        HttpResponse<String> r = publish(s, topic, "text/plain; charset=utf-8", body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return json(r).get("offset").asLong();
    }

    static HttpResponse<String> put(TestServer s, String path, String body) {
        return s.send(HttpRequest.newBuilder(s.uri(path)).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    static HttpResponse<String> delete(TestServer s, String path) {
        return s.send(HttpRequest.newBuilder(s.uri(path)).DELETE().build());
    }

    /** {@code GET /v1/topics/{topic}} as JSON, or null when it is 404. */
    static JsonNode describe(TestServer s, String topic) {
        HttpResponse<String> r = s.get("/v1/topics/" + topic);
        if (r.statusCode() == 404) {
            return null;
        }
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return json(r);
    }

    /** Long polls held on a topic, as its description counts them (0 when absent or not stored). */
    static int heldPolls(TestServer s, String topic) {
        JsonNode d = describe(s, topic);
        return d == null ? 0 : d.path("subscribers").path("longpoll").asInt(0);
    }
}
