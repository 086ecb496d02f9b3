package dev.switchboard.testing;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A JDK WebSocket client's listener that keeps every text frame the server sent, as JSON ops in arrival order, and
 * how the server closed. Fails the test on a frame that is not JSON.
 */
public final class JsonFrames implements WebSocket.Listener {
    private static final ObjectMapper JSON = new ObjectMapper();

    public final List<JsonNode> ops = new CopyOnWriteArrayList<>();
    public final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
    public volatile String closeReason;
    private final StringBuilder partial = new StringBuilder();

    /** Opens {@code /v1/ws} + {@code query} on the server, with a bearer token unless it is null. */
    public static WebSocket connect(TestServer server, String token, String query, JsonFrames frames) {
        WebSocket.Builder b = HttpClient.newHttpClient().newWebSocketBuilder();
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b.buildAsync(URI.create("ws://127.0.0.1:" + server.port() + "/v1/ws" + query), frames).join();
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            try {
                ops.add(JSON.readTree(partial.toString()));
            } catch (IOException e) {
                throw new AssertionError("the server sent a frame that is not JSON: " + partial, e);
            }
            partial.setLength(0);
        }
        ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
        closeReason = reason;
        closeCode.complete(statusCode);
        return null;
    }

    /** The first op answering the op sent with {@code id}, waiting for it. */
    public JsonNode reply(String id) {
        await().atMost(Duration.ofSeconds(10)).until(() -> ops.stream().anyMatch(o -> id.equals(o.path("id").asText())));
        return ops.stream().filter(o -> id.equals(o.path("id").asText())).findFirst().orElseThrow();
    }

    /** The data of the {@code message} ops received, in order. */
    public List<JsonNode> messages() {
        return ops.stream().filter(o -> o.path("op").asText().equals("message")).map(o -> o.path("data")).toList();
    }
}
