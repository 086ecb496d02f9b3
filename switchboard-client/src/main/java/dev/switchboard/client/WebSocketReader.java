package dev.switchboard.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One WebSocket per connection, subscribing with {@code {"op":"subscribe"}}. The JDK's listener only hands each
 * frame to the reader thread; the reader handles it (waiting for room in the buffer) and only then asks for more
 * frames ({@link #READ_AHEAD} at most outstanding), so a full buffer stops reading from the socket and the server's
 * TCP window closes.
 */
final class WebSocketReader implements SubscriptionImpl.Reader {
    /** The server closed us for reading too slowly. */
    private static final int TOO_SLOW = 4008;
    /**
     * Frames asked for ahead of the reader. Asking for one at a time would cost a round through the JDK's scheduler per
     * frame (a tenth of the throughput); this many complete frames at most wait in the inbox, beyond the buffer.
     */
    static final int READ_AHEAD = 16;
    /** Close codes that blame what we sent: reconnecting would only repeat it. */
    private static final Set<Integer> TERMINAL_CLOSE = Set.of(1002, 1003, 1007, 1008, 1009, 1010);
    /** WebSocket errors that reconnecting cannot fix. */
    private static final Set<String> FINAL_ERRORS = Set.of("invalid_topic", "invalid_from", "topic_deleted", "invalid_op",
            "invalid_json", "limit_exceeded", "unauthorized", "forbidden");

    private volatile WebSocket current;
    private volatile CompletableFuture<WebSocket> opening;

    /** What the listener hands over: a complete text frame, a close, or a failure. */
    private record Closed(int code, String reason) {}

    @Override
    public void stream(URI server, SubscriptionImpl sub) throws IOException, InterruptedException {
        BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
        URI uri = Endpoints.webSocket(server);
        WebSocket.Builder builder = sub.rest().http.newWebSocketBuilder()
                .connectTimeout(sub.rest().options.connectTimeout());
        sub.rest().authorize(builder::header);
        CompletableFuture<WebSocket> open = builder.buildAsync(uri, new Listener(inbox));
        opening = open;
        WebSocket ws;
        try {
            ws = open.get();
        } catch (ExecutionException e) {
            throw handshakeFailure(uri, Errors.unwrap(e));
        } catch (InterruptedException e) {
            open.cancel(true);
            throw e;
        } finally {
            opening = null;
        }
        current = ws;
        boolean leaving = false;
        try {
            ws.sendText(subscribe(sub), true);
            ws.request(READ_AHEAD);
            int handled = 0;
            while (true) {
                Object item;
                try {
                    item = inbox.take();
                } catch (InterruptedException e) {
                    leaving = true;
                    throw e;
                }
                if (item instanceof String text) {
                    handle(server, sub, Json.frame(text.getBytes(StandardCharsets.UTF_8)));
                    if (++handled == READ_AHEAD / 2) {
                        ws.request(handled);
                        handled = 0;
                    }
                } else if (item instanceof Closed closed) {
                    throw closedBy(server, sub, closed);
                } else {
                    Throwable error = (Throwable) item;
                    throw error instanceof IOException io ? io : new IOException("the WebSocket failed: " + error, error);
                }
            }
        } finally {
            current = null;
            if (leaving) {
                close(ws);
            } else {
                ws.abort(); // a broken connection has no one to say goodbye to
            }
        }
    }

    private static String subscribe(SubscriptionImpl sub) {
        ObjectNode request = Json.MAPPER.createObjectNode().put("op", "subscribe").put("topic", sub.topic());
        From from = sub.position();
        if (sub.topicPositions() != null) {
            ObjectNode resume = request.putObject("from");
            sub.topicPositions().forEach(resume::put);
        } else if (from.isOffset()) {
            request.put("from", from.offsetValue());
        } else {
            request.put("from", from.toString());
        }
        return request.put("id", "s").toString();
    }

    private static void handle(URI server, SubscriptionImpl sub, Json.Frame frame) throws IOException, InterruptedException {
        switch (frame.op()) {
            case "message" -> sub.message(frame.message());
            case "subscribed" -> {
                JsonNode following = frame.tree().get("following");
                if (following != null) {
                    Map<String, Long> starts = new HashMap<>();
                    following.properties().forEach(e -> starts.put(e.getKey(), e.getValue().asLong()));
                    sub.pinTopics(starts);
                } else {
                    sub.pin(frame.tree().path("next").asLong());
                }
                sub.connected(server);
            }
            case "gap" -> sub.gap(frame.tree().path("topic").asText(sub.topic()), frame.tree().path("from").asLong(),
                    frame.tree().path("first").asLong());
            case "error" -> {
                JsonNode e = frame.tree();
                if (e.has("pattern")) {
                    // One topic the pattern reaches that the server would not follow (a limit): the frame names it,
                    // and the subscription goes on with its other topics.
                    return;
                }
                String code = e.path("code").asText();
                if (FINAL_ERRORS.contains(code)) {
                    throw Errors.of(code, 0, e.path("message").asText());
                }
                throw new IOException("the server reported " + code + ": " + e.path("message").asText());
            }
            default -> {
                // ops this client does not know
            }
        }
    }

    private static IOException closedBy(URI server, SubscriptionImpl sub, Closed closed) {
        String why = closed.code() + (closed.reason().isEmpty() ? "" : " " + closed.reason());
        if (TERMINAL_CLOSE.contains(closed.code())) {
            throw Errors.protocol("the server closed the WebSocket: " + why);
        }
        if (closed.code() == TOO_SLOW) {
            // Resumed from our own position, not from the offset the reason names: a reader whose socket is full
            // may never receive this frame at all.
            sub.listener().slowConsumer(sub.topic(), server);
        }
        return new IOException("the server closed the WebSocket (" + why + ")");
    }

    private static IOException handshakeFailure(URI uri, Throwable cause) {
        if (cause instanceof WebSocketHandshakeException refused) {
            int status = refused.getResponse().statusCode();
            Object body = refused.getResponse().body();
            byte[] bytes = body instanceof byte[] b ? b : body instanceof String s ? s.getBytes(StandardCharsets.UTF_8) : new byte[0];
            if (status / 100 == 4 && status != 429) {
                throw Errors.of(status, bytes);
            }
            return new IOException("WebSocket refused with HTTP " + status, cause);
        }
        return cause instanceof IOException io ? io : new IOException(Errors.describe(cause), cause);
    }

    @Override
    public void abort() {
        CompletableFuture<WebSocket> f = opening;
        if (f != null) {
            f.cancel(true);
        }
        WebSocket ws = current;
        if (ws != null) {
            ws.abort();
        }
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

    /** Runs on the JDK's threads, one event at a time: assembles frames and hands them to the reader. */
    private static final class Listener implements WebSocket.Listener {
        private final BlockingQueue<Object> inbox;
        private final StringBuilder text = new StringBuilder();

        Listener(BlockingQueue<Object> inbox) {
            this.inbox = inbox;
        }

        @Override
        public void onOpen(WebSocket ws) {
            // The reader asks for frames once it has subscribed.
        }

        // Frames that do not reach the inbox give their demand back at once, keeping READ_AHEAD outstanding.

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence part, boolean last) {
            text.append(part);
            if (last) {
                inbox.add(text.toString());
                text.setLength(0);
            } else {
                ws.request(1); // the rest of this frame
            }
            return null;
        }

        @Override
        public CompletionStage<?> onPing(WebSocket ws, java.nio.ByteBuffer message) {
            ws.request(1); // the JDK answers the ping itself
            return null;
        }

        @Override
        public CompletionStage<?> onPong(WebSocket ws, java.nio.ByteBuffer message) {
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, java.nio.ByteBuffer data, boolean last) {
            ws.request(1); // the API sends no binary frames
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
            inbox.add(new Closed(code, reason));
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            // Not only IOExceptions: JDK 25 reports some abrupt ends (EOF without a close frame) as an InternalError.
            inbox.add(error);
        }
    }
}
