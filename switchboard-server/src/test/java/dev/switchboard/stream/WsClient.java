package dev.switchboard.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testing.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A {@code java.net.http.WebSocket} client of {@code /v1/ws}. Each whole text frame is parsed as JSON and either
 * queued (the default; read with {@link #next()}) or handed to a caller's consumer (for long streams that should not
 * be kept in memory). Records pongs, pings and how the connection ended.
 */
final class WsClient implements AutoCloseable {
    /** How the connection ended: a close frame's code and reason, or an error (code -1). */
    record Closed(int code, String reason, Throwable error) {}

    private static final Duration WAIT = Duration.ofSeconds(10);

    final LinkedBlockingQueue<JsonNode> inbox = new LinkedBlockingQueue<>();
    final List<ByteBuffer> pongs = new CopyOnWriteArrayList<>();
    final AtomicInteger pings = new AtomicInteger();
    final CompletableFuture<Closed> closed = new CompletableFuture<>();
    private final Consumer<JsonNode> consumer;
    private StringBuilder partial = new StringBuilder();
    private WebSocket ws;

    private WsClient(Consumer<JsonNode> consumer) {
        this.consumer = consumer;
    }

    static WsClient connect(TestServer server, String pathAndQuery) {
        return connect(server.http(), URI.create("ws://127.0.0.1:" + server.port() + pathAndQuery), null);
    }

    static WsClient connect(TestServer server, String pathAndQuery, Consumer<JsonNode> consumer) {
        return connect(server.http(), URI.create("ws://127.0.0.1:" + server.port() + pathAndQuery), consumer);
    }

    /** Connects and waits for the handshake; {@code consumer} null means frames are queued in {@link #inbox}. */
    static WsClient connect(HttpClient http, URI uri, Consumer<JsonNode> consumer) {
        WsClient c = new WsClient(consumer);
        try {
            c.ws = http.newWebSocketBuilder().connectTimeout(WAIT).buildAsync(uri, c.listener())
                    .get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("WebSocket handshake with " + uri + " failed", e);
        }
        return c;
    }

    private WebSocket.Listener listener() {
        return new WebSocket.Listener() {
            @Override
            public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                partial.append(data);
                if (last) {
                    JsonNode frame = StreamFixtures.json(partial.toString());
                    partial = new StringBuilder(); // do not keep the capacity of a large frame
                    if (consumer != null) {
                        consumer.accept(frame);
                    } else {
                        inbox.add(frame);
                    }
                }
                webSocket.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
                closed.completeExceptionally(new AssertionError("the server sent a binary frame"));
                webSocket.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onPing(WebSocket webSocket, ByteBuffer message) {
                pings.incrementAndGet();
                webSocket.request(1);
                return null; // the JDK client answers with a pong itself
            }

            @Override
            public CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
                ByteBuffer copy = ByteBuffer.allocate(message.remaining()).put(message).flip();
                pongs.add(copy);
                webSocket.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
                closed.complete(new Closed(statusCode, reason, null));
                return null;
            }

            @Override
            public void onError(WebSocket webSocket, Throwable error) {
                closed.complete(new Closed(-1, null, error));
            }
        };
    }

    WebSocket socket() {
        return ws;
    }

    void send(String text) {
        ws.sendText(text, true).orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
    }

    void sendPing(String payload) {
        ws.sendPing(ByteBuffer.wrap(payload.getBytes(StandardCharsets.UTF_8))).orTimeout(WAIT.toSeconds(),
                TimeUnit.SECONDS).join();
    }

    /** The next frame, waiting up to 10 s for it. */
    JsonNode next() {
        try {
            JsonNode n = inbox.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            if (n == null) {
                fail("no frame within " + WAIT + "; closed: " + closed.getNow(null));
            }
            return n;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The next frame, which must have this op. */
    JsonNode next(String op) {
        JsonNode n = next();
        assertThat(n.path("op").asText()).as("op of %s", n).isEqualTo(op);
        return n;
    }

    boolean isClosed() {
        return closed.isDone();
    }

    /** Drops the TCP connection without a close handshake. */
    void abort() {
        ws.abort();
    }

    @Override
    public void close() {
        if (!ws.isOutputClosed()) {
            try {
                ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(2, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // fall through to abort
            }
        }
        ws.abort();
    }
}
