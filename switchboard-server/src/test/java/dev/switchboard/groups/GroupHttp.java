package dev.switchboard.groups;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** The group endpoints over a real HTTP client, for the group tests. */
final class GroupHttp implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;

    GroupHttp(String base) {
        this.base = base;
    }

    record Response(int status, JsonNode body) {}

    /** A fetched message: its offset, payload text and delivery count. */
    record Fetched(long offset, String data, int deliveries) {}

    Response send(String method, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Response(r.statusCode(), r.body().isEmpty() ? null : JSON.readTree(r.body()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Publishes {@code count} JSON strings "m{first}".."m{first+count-1}", in batches of 1000. */
    void publish(String topic, int first, int count) {
        for (int i = 0; i < count; i += 1000) {
            StringBuilder lines = new StringBuilder();
            for (int j = i; j < Math.min(count, i + 1000); j++) {
                lines.append("\"m").append(first + j).append("\"\n");
            }
            HttpRequest r = HttpRequest.newBuilder(URI.create(base + "/v1/topics/" + topic + "/batch"))
                    .header("Content-Type", "application/x-ndjson").POST(HttpRequest.BodyPublishers.ofString(lines.toString()))
                    .build();
            try {
                HttpResponse<String> answer = http.send(r, HttpResponse.BodyHandlers.ofString());
                assertThat(answer.statusCode()).as(answer.body()).isIn(200, 201);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    List<Fetched> fetch(String topic, String group, String member, int max, String wait) {
        Response r = send("POST", "/v1/topics/" + topic + "/groups/" + group + "/fetch?member=" + member + "&max="
                + max + "&wait=" + wait, null);
        assertThat(r.status()).as("%s", r.body()).isEqualTo(200);
        List<Fetched> fetched = new ArrayList<>();
        for (JsonNode m : r.body().get("messages")) {
            fetched.add(new Fetched(m.get("offset").asLong(), m.get("data").asText(), m.get("deliveries").asInt()));
        }
        return fetched;
    }

    /** Acknowledges offsets; answers the ones accepted. */
    List<Long> ack(String topic, String group, String member, List<Long> offsets) {
        Response r = send("POST", "/v1/topics/" + topic + "/groups/" + group + "/ack?member=" + member,
                "{\"offsets\":[" + offsets.stream().map(String::valueOf).collect(Collectors.joining(",")) + "]}");
        assertThat(r.status()).as("%s", r.body()).isEqualTo(200);
        List<Long> acked = new ArrayList<>();
        r.body().get("acked").forEach(n -> acked.add(n.asLong()));
        return acked;
    }

    JsonNode status(String topic, String group) {
        Response r = send("GET", "/v1/topics/" + topic + "/groups/" + group, null);
        assertThat(r.status()).as("%s", r.body()).isEqualTo(200);
        return r.body();
    }

    static List<Long> offsets(List<Fetched> fetched) {
        return fetched.stream().map(Fetched::offset).toList();
    }

    @Override
    public void close() {
        http.close();
    }
}
