package dev.switchboard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** {@code sub --via ws}: one WebSocket per connection, subscribing with {@code {"op":"subscribe"}}. */
final class WebSocketTransport implements SubscriberLoop.Transport {
    /** The server closed us for reading too slowly; we resume from the log. */
    private static final int TOO_SLOW = 4008;
    /** Our token expired; we reconnect with the token as it is then (--token-file). */
    private static final int TOKEN_EXPIRED = 4001;
    /** The JDK's code for a connection that ended without a close frame. */
    private static final int ABNORMAL = 1006;
    /** Close codes that blame what we sent: reconnecting would only repeat it. */
    private static final Set<Integer> TERMINAL_CLOSE = Set.of(1002, 1003, 1007, 1008, 1009, 1010);

    private final HttpClient http;
    private final URI uri;
    private final Urls urls;
    private final String topic;

    WebSocketTransport(HttpClient http, Urls urls, String topic) {
        this.http = http;
        this.urls = urls;
        this.uri = urls.webSocket();
        this.topic = topic;
    }

    @Override
    public void stream(SubscriberLoop loop) throws IOException, InterruptedException {
        CompletableFuture<Void> ended = new CompletableFuture<>();
        WebSocket ws;
        try {
            ws = urls.authorized(http.newWebSocketBuilder())
                    .connectTimeout(Http.CONNECT_TIMEOUT)
                    .buildAsync(uri, new Listener(loop, ended))
                    .get();
        } catch (ExecutionException e) {
            throw handshakeFailure(e.getCause());
        }
        try {
            ws.sendText(subscribe(loop.position()), true)
                    .whenComplete((sent, failure) -> {
                        if (failure != null) {
                            ended.completeExceptionally(failure);
                        }
                    });
            ended.get();
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        } finally {
            close(ws);
        }
    }

    private String subscribe(From from) {
        ObjectNode request = Http.JSON.createObjectNode().put("op", "subscribe").put("topic", topic);
        if (from.isOffset()) {
            request.put("from", from.offset());
        } else {
            request.put("from", from.keyword());
        }
        return request.put("id", "s1").toString();
    }

    private IOException handshakeFailure(Throwable cause) {
        if (cause instanceof WebSocketHandshakeException refused) {
            int status = refused.getResponse().statusCode();
            if (status / 100 == 4 && status != 429) {
                throw new ServerError(status, "http_" + status, "the server refused the WebSocket at " + uri);
            }
            return new IOException("WebSocket refused with HTTP " + status, cause);
        }
        return Http.unreachable(uri, cause);
    }

    private static IOException rethrow(Throwable cause) {
        if (cause instanceof ServerError error) {
            throw error;
        }
        return cause instanceof IOException io ? io : new IOException(cause);
    }

    /** A polite close frame when we are the ones leaving, then the socket goes either way. */
    private static void close(WebSocket ws) {
        try {
            if (!ws.isOutputClosed()) {
                ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(1, TimeUnit.SECONDS);
            }
        } catch (Exception alreadyGone) {
            // nothing to be polite to
        } finally {
            ws.abort();
        }
    }

    /** Called by the JDK one event at a time; asks for the next frame only after handling one. */
    private static final class Listener implements WebSocket.Listener {
        private final SubscriberLoop loop;
        private final CompletableFuture<Void> ended;
        private final StringBuilder text = new StringBuilder();

        Listener(SubscriberLoop loop, CompletableFuture<Void> ended) {
            this.loop = loop;
            this.ended = ended;
        }

        @Override
        public void onOpen(WebSocket ws) {
            loop.connected();
            ws.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence part, boolean last) {
            text.append(part);
            if (last) {
                try {
                    handle(Http.JSON.readTree(text.toString()));
                } catch (IOException | RuntimeException e) {
                    ended.completeExceptionally(e);
                }
                text.setLength(0);
            }
            ws.request(1);
            return null;
        }

        private void handle(JsonNode frame) {
            if (ended.isDone()) {
                return;
            }
            switch (frame.path("op").asText()) {
                case "message" -> {
                    ObjectNode envelope = (ObjectNode) frame;
                    envelope.remove("op");
                    loop.message(envelope);
                    if (loop.done()) {
                        ended.complete(null);
                    }
                }
                case "subscribed" -> loop.subscribed(frame.path("next").asLong());
                case "gap" -> loop.gap(frame.path("from").asLong(), frame.path("first").asLong());
                case "error" -> ended.completeExceptionally(
                        new ServerError(frame.path("code").asText(), frame.path("message").asText()));
                default -> {
                    // acks, and ops this client does not know, concern other requests
                }
            }
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
            String why = code + (reason.isEmpty() ? "" : " " + reason);
            if (TERMINAL_CLOSE.contains(code)) {
                ended.completeExceptionally(new ServerError("closed", "the server closed the WebSocket: " + why));
            } else if (code == ABNORMAL) {
                ended.completeExceptionally(new IOException("the WebSocket connection was lost"));
            } else if (code == TOKEN_EXPIRED) {
                ended.completeExceptionally(new IOException("the token expired (" + why + ")"));
            } else if (code == TOO_SLOW) {
                ended.completeExceptionally(new IOException("the server closed the WebSocket because we read too slowly (" + why + ")"));
            } else {
                ended.completeExceptionally(new IOException("the server closed the WebSocket (" + why + ")"));
            }
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            // Not only IOExceptions: JDK 25 reports some abrupt ends (EOF without a close frame) as an InternalError.
            ended.completeExceptionally(error instanceof IOException ? error
                    : new IOException("the WebSocket connection was lost (" + error + ")", error));
        }
    }
}
