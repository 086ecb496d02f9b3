package dev.switchboard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * {@code sub --via poll}: long polls {@code GET /v1/topics/{T}/messages?from=N&wait=…}, each from the previous
 * {@code next}. A long poll waits for a topic that does not exist yet, so a 404 means it was deleted: final.
 */
final class PollTransport implements SubscriberLoop.Transport {
    private static final int LIMIT = 100;
    /** How long past the wait a silent server is given before the request counts as lost. */
    private static final Duration GRACE = Duration.ofSeconds(10);

    private final HttpClient http;
    private final Urls urls;
    private final String topic;
    private final Duration wait;

    PollTransport(HttpClient http, Urls urls, String topic, Duration wait) {
        this.http = http;
        this.urls = urls;
        this.topic = topic;
        this.wait = wait;
    }

    @Override
    public void stream(SubscriberLoop loop) throws IOException, InterruptedException {
        if (loop.position().isNext()) {
            // A long poll only says what "next" meant when it returns; pin it first, so that a connection
            // lost while waiting does not skip what was published meanwhile.
            loop.subscribed(next(http, urls, topic));
        }
        while (!loop.done()) {
            From from = loop.position();
            JsonNode page = get(http, urls.request(urls.poll(topic, from, wait, LIMIT)).timeout(wait.plus(GRACE)));
            loop.connected();
            JsonNode messages = page.path("messages");
            if (page.path("gap").asBoolean() && from.isOffset()) {
                long first = messages.isEmpty() ? page.path("next").asLong() : messages.get(0).path("offset").asLong();
                loop.gap(from.offset(), first);
            }
            for (JsonNode message : messages) {
                loop.message((ObjectNode) message);
            }
            if (page.hasNonNull("next")) {
                loop.moveTo(page.path("next").asLong());
            }
        }
    }

    /** What {@code from=next} means right now: a short poll answers with it as {@code next}. */
    static long next(HttpClient http, Urls urls, String topic) throws IOException, InterruptedException {
        HttpRequest request = urls.request(urls.poll(topic, From.NEXT, null, 1)).timeout(GRACE).build();
        HttpResponse<byte[]> response = Http.send(http, request, HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() == 404 && ServerError.of(404, response.body()).code.equals("topic_not_found")) {
            return 1; // A topic exists once something is published to it, and its first offset is 1.
        }
        if (response.statusCode() != 200) {
            refused(response.statusCode(), response.body());
        }
        JsonNode next = Http.JSON.readTree(response.body()).path("next");
        if (!next.isIntegralNumber()) {
            throw new ServerError(response.statusCode(), "protocol", "poll reply has no next offset");
        }
        return next.longValue();
    }

    private static JsonNode get(HttpClient http, HttpRequest.Builder request) throws IOException, InterruptedException {
        HttpResponse<byte[]> response = Http.send(http, request.build(), HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200) {
            refused(response.statusCode(), response.body());
        }
        return Http.JSON.readTree(response.body());
    }

    /** Throws for a refused read: worth retrying (5xx, 429) or final (any other status). */
    static void refused(int status, byte[] body) throws IOException {
        ServerError error = ServerError.of(status, body);
        if (status / 100 == 5 || status == 429) {
            throw new IOException("HTTP " + status + ": " + error.getMessage());
        }
        throw error;
    }
}
