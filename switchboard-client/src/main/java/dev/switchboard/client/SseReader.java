package dev.switchboard.client;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.wire.SseEvent;
import dev.switchboard.wire.SseParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * {@code GET /v1/topics/{T}/events?format=envelope}: one server-sent event per message, carrying its envelope (type,
 * time and headers with the payload), resumed with {@code Last-Event-ID}.
 */
final class SseReader implements SubscriptionImpl.Reader {
    private static final int MAX_ERROR_BODY = 64 * 1024;
    /** Far above any message the server takes (its default limit is 1 MiB, a third more as base64). */
    private static final int MAX_EVENT_BYTES = 256 << 20;
    private static final String TOKEN_EXPIRED = "token_expired";

    private volatile InputStream body;
    private volatile CompletableFuture<?> pending;

    @Override
    public void stream(URI server, SubscriptionImpl sub) throws IOException, InterruptedException {
        String topic = sub.topic();
        if (sub.position().isNext()) {
            // The stream never says which offset "next" meant; a reconnect before the first message would skip
            // what was published meanwhile, so pin it down first.
            sub.pin(PollReader.next(sub.rest(), server, topic));
        }
        From from = sub.position();
        HttpRequest.Builder request = sub.rest().request(server,
                        "/v1/topics/" + Endpoints.segment(topic) + "/events?format=envelope&from=" + from)
                .header("Accept", "text/event-stream");
        if (from.isOffset() && from.offsetValue() > 1) {
            request.header("Last-Event-ID", Long.toString(from.offsetValue() - 1));
        }
        CompletableFuture<HttpResponse<InputStream>> f =
                sub.rest().http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        pending = f;
        HttpResponse<InputStream> response;
        try {
            response = f.get();
        } catch (ExecutionException e) {
            Throwable cause = Errors.unwrap(e);
            throw cause instanceof IOException io ? io : new IOException(Errors.describe(cause), cause);
        } finally {
            pending = null;
        }
        try (InputStream in = response.body()) {
            body = in;
            if (response.statusCode() != 200) {
                PollReader.ok(response.statusCode(), in.readNBytes(MAX_ERROR_BODY));
            }
            sub.connected(server);
            SseParser parser = new SseParser(MAX_EVENT_BYTES, event -> onEvent(sub, event));
            byte[] buffer = new byte[8192];
            try {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    parser.feed(buffer, 0, n);
                }
            } catch (Interrupted e) {
                throw e.cause;
            } catch (UncheckedIOException e) {
                throw e.getCause();
            } catch (SseParser.TooLongException e) {
                throw Errors.protocol(e.getMessage());
            }
        } finally {
            body = null;
        }
        throw new IOException("the server ended the event stream");
    }

    private static void onEvent(SubscriptionImpl sub, SseEvent event) {
        try {
            switch (event.type()) {
                case "message" -> sub.message(Json.envelope(Arrays.copyOf(event.dataArray(), event.dataLength())));
                case "gap" -> {
                    JsonNode gap = Json.MAPPER.readTree(event.data());
                    sub.gap(sub.topic(), gap.path("from").asLong(), gap.path("first").asLong());
                }
                case "error" -> {
                    JsonNode error = Json.MAPPER.readTree(event.data());
                    String code = error.path("code").asText();
                    if (code.equals(TOKEN_EXPIRED)) {
                        // The server ends the stream next; the reconnect asks the token supplier again.
                        throw new UncheckedIOException(new IOException("the token expired; reconnecting"));
                    }
                    throw Errors.of(code, 0, error.path("message").asText());
                }
                default -> {
                    // event types this client does not know
                }
            }
        } catch (InterruptedException e) {
            throw new Interrupted(e);
        } catch (IOException e) {
            throw new UncheckedIOException(new IOException("unreadable '" + event.type() + "' event: " + e.getMessage()));
        }
    }

    @Override
    public void abort() {
        CompletableFuture<?> f = pending;
        if (f != null) {
            f.cancel(true);
        }
        InputStream in = body;
        if (in != null) {
            try {
                in.close();
            } catch (IOException ignored) {
                // closing is all we wanted
            }
        }
    }

    /** Carries an interrupt out of the parser's callback, which cannot throw checked exceptions. */
    private static final class Interrupted extends RuntimeException {
        final InterruptedException cause;

        Interrupted(InterruptedException cause) {
            super(null, null, false, false);
            this.cause = cause;
        }
    }
}
