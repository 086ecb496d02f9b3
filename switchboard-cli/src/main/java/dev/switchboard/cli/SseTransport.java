package dev.switchboard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.wire.SseEvent;
import dev.switchboard.wire.SseParser;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** {@code sub --via sse}: {@code GET /v1/topics/{T}/events}, one server-sent event per message. */
final class SseTransport implements SubscriberLoop.Transport {
    private static final int MAX_ERROR_BODY = 64 * 1024;
    /**
     * No limit of its own: a message may be as large as the server's {@code --max-message-bytes} allows (a third
     * more as base64), and this client does not know that setting.
     */
    private static final int MAX_EVENT_BYTES = Integer.MAX_VALUE;

    private final HttpClient http;
    private final Urls urls;
    private final String topic;

    SseTransport(HttpClient http, Urls urls, String topic) {
        this.http = http;
        this.urls = urls;
        this.topic = topic;
    }

    @Override
    public void stream(SubscriberLoop loop) throws IOException, InterruptedException {
        if (loop.position().isNext()) {
            // The stream never says which offset "next" meant; a reconnect before the first message
            // would skip what was published meanwhile, so pin it down first.
            loop.subscribed(PollTransport.next(http, urls, topic));
        }
        From from = loop.position();
        HttpRequest.Builder request = urls.request(urls.events(topic, from))
                .header("Accept", "text/event-stream");
        if (from.isOffset() && from.offset() > 1) {
            // The standard resume header, saying the same as ?from=.
            request.header("Last-Event-ID", Long.toString(from.offset() - 1));
        }
        HttpResponse<InputStream> response = Http.send(http, request.build(), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream body = response.body()) {
            if (response.statusCode() != 200) {
                PollTransport.refused(response.statusCode(), body.readNBytes(MAX_ERROR_BODY));
            }
            loop.connected();
            SseParser parser = new SseParser(MAX_EVENT_BYTES, event -> onEvent(loop, event));
            byte[] buffer = new byte[8192];
            for (int n; (n = body.read(buffer)) >= 0; ) {
                parser.feed(buffer, 0, n);
                if (loop.done()) {
                    return;
                }
            }
        }
        throw new IOException("the server ended the event stream");
    }

    private void onEvent(SubscriberLoop loop, SseEvent event) {
        try {
            switch (event.type()) {
                case "message" -> loop.message(Http.JSON.createObjectNode()
                        .put("topic", topic)
                        .put("offset", Long.parseLong(event.id()))
                        .put("data", event.data()));
                case "gap" -> {
                    JsonNode gap = Http.JSON.readTree(event.data());
                    loop.gap(gap.path("from").asLong(), gap.path("first").asLong());
                }
                case "error" -> {
                    JsonNode error = Http.JSON.readTree(event.data());
                    // An expired token: the server ends the stream next, and the reconnect carries the token as it
                    // is then (--token-file); any other error ends the subscription.
                    if (!error.path("code").asText().equals("token_expired")) {
                        throw new ServerError(error.path("code").asText(), error.path("message").asText());
                    }
                }
                default -> {
                    // event types this client does not know
                }
            }
        } catch (IOException | NumberFormatException e) {
            throw new ServerError("protocol", "unreadable '" + event.type() + "' event (id '" + event.id() + "'): " + e.getMessage());
        }
    }
}
