package dev.switchboard.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A small black-box client of the Jobs API over the JDK HttpClient (real sockets), with the assertions every job test
 * needs: the docs/api.md error shape, and "the job did not change".
 */
final class JobHttp {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String LEASE_TOKEN = "Lease-Token";

    /** One answer: status, headers and the body bytes. */
    record Response(int status, HttpHeaders headers, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (status " + status + "): " + text(), e);
            }
        }

        String header(String name) {
            return headers.firstValue(name).orElse(null);
        }

        @Override
        public String toString() {
            return status + " " + text();
        }
    }

    private final HttpClient client;
    private final String base;

    JobHttp(HttpClient client, String base) {
        this.client = client;
        this.base = base;
    }

    String base() {
        return base;
    }

    HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    }

    /** {@code headers} are name, value pairs; a null body sends none. */
    HttpRequest build(String method, String path, byte[] body, String... headers) {
        HttpRequest.Builder b = request(path).method(method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) {
            if (headers[i + 1] != null) {
                b.header(headers[i], headers[i + 1]);
            }
        }
        return b.build();
    }

    Response send(String method, String path, byte[] body, String... headers) {
        return send(build(method, path, body, headers));
    }

    Response send(HttpRequest request) {
        try {
            HttpResponse<byte[]> r = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
            return new Response(r.statusCode(), r.headers(), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    CompletableFuture<Response> sendAsync(String method, String path, byte[] body, String... headers) {
        return client.sendAsync(build(method, path, body, headers), HttpResponse.BodyHandlers.ofByteArray())
                .thenApply(r -> new Response(r.statusCode(), r.headers(), r.body()));
    }

    Response get(String path) {
        return send("GET", path, null);
    }

    Response delete(String path) {
        return send("DELETE", path, null);
    }

    Response post(String path, String contentType, String body, String... headers) {
        return post(path, contentType, body.getBytes(StandardCharsets.UTF_8), headers);
    }

    Response post(String path, String contentType, byte[] body, String... headers) {
        String[] all = new String[headers.length + 2];
        all[0] = "Content-Type";
        all[1] = contentType;
        System.arraycopy(headers, 0, all, 2, headers.length);
        return send("POST", path, body, all);
    }

    Response put(String path, String json) {
        return post0("PUT", path, json);
    }

    private Response post0(String method, String path, String json) {
        return send(method, path, json.getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
    }

    // ---- the Jobs API ----

    Response submitRaw(String queue, String query, String type, String body, String... headers) {
        return post("/v1/queues/" + queue + "/jobs" + query, type, body, headers);
    }

    /** Submits and checks the 202; returns the job JSON. */
    JsonNode submit(String queue, String type, String body) {
        Response r = submitRaw(queue, "", type, body);
        assertThat(r.status()).as("submit: %s", r).isEqualTo(202);
        return r.json();
    }

    JsonNode job(String id) {
        Response r = get("/v1/jobs/" + id);
        assertThat(r.status()).as("get job: %s", r).isEqualTo(200);
        return r.json();
    }

    Response claimRaw(String queue, String query) {
        return send("POST", "/v1/queues/" + queue + "/claim" + query, null);
    }

    /** A claim that must get a job (200); returns the claim JSON with payload and lease. */
    JsonNode claim(String queue, String query) {
        Response r = claimRaw(queue, query);
        assertThat(r.status()).as("claim: %s", r).isEqualTo(200);
        return r.json();
    }

    Response progress(String id, String token, String json) {
        return send("POST", "/v1/jobs/" + id + "/progress", bytes(json), "Content-Type", "application/json",
                LEASE_TOKEN, token);
    }

    Response heartbeat(String id, String token) {
        return send("POST", "/v1/jobs/" + id + "/heartbeat", null, LEASE_TOKEN, token);
    }

    Response complete(String id, String token, String type, byte[] result) {
        return send("POST", "/v1/jobs/" + id + "/complete", result, "Content-Type", type, LEASE_TOKEN, token);
    }

    Response complete(String id, String token, String result) {
        return complete(id, token, "text/plain", bytes(result));
    }

    Response fail(String id, String token, String json) {
        return send("POST", "/v1/jobs/" + id + "/fail", bytes(json), "Content-Type", "application/json",
                LEASE_TOKEN, token);
    }

    Response cancel(String id) {
        return delete("/v1/jobs/" + id);
    }

    Response result(String id) {
        return get("/v1/jobs/" + id + "/result");
    }

    JsonNode queue(String queue) {
        Response r = get("/v1/queues/" + queue);
        assertThat(r.status()).as("queue: %s", r).isEqualTo(200);
        return r.json();
    }

    // ---- assertions ----

    /** The answer is {@code status} with docs/api.md's error shape {@code {"error":{"code","message"}}} and that code. */
    static void assertError(Response r, int status, String... codes) {
        assertThat(r.status()).as("status of %s", r).isEqualTo(status);
        assertThat(r.header("content-type")).as("content type of %s", r).startsWith("application/json");
        JsonNode error = r.json().get("error");
        assertThat(error).as("error object of %s", r).isNotNull();
        assertThat(error.path("code").isTextual()).as("error.code of %s", r).isTrue();
        assertThat(error.path("message").asText()).as("error.message of %s", r).isNotBlank();
        if (codes.length > 0) {
            assertThat(error.get("code").asText()).as("error.code of %s", r).isIn((Object[]) codes);
        }
    }

    /** The job is exactly as {@code before} (same status, version, attempt, progress, times...). */
    void assertUnchanged(JsonNode before) {
        assertThat(job(before.get("id").asText())).isEqualTo(publicPart(before));
    }

    /** The public job JSON within a claim answer (which adds payload and lease fields). */
    static JsonNode publicPart(JsonNode job) {
        var copy = job.deepCopy();
        if (copy instanceof com.fasterxml.jackson.databind.node.ObjectNode o) {
            o.remove(java.util.List.of("payload", "payloadType", "payloadEncoding", "lease", "leaseExpires"));
        }
        return copy;
    }

    static byte[] bytes(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    static String reversed(String s) {
        return new StringBuilder(s).reverse().toString();
    }
}
