package dev.switchboard.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.auth.JwtAuthenticator;
import dev.switchboard.testing.JsonFrames;
import dev.switchboard.testing.SseParser.Event;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.Tokens;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tokens on open streams: a WebSocket's ops are checked against the token it connected with; a stream whose token
 * expires is told so (WebSocket close 4001, SSE {@code event: error} {@code token_expired}); and a token stays good
 * across a server restart, since nothing about it was stored.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StreamTokenTest {
    private static final List<String> NONE = List.of();

    @TempDir
    Path keys;
    private Tokens tokens;
    private TestServer server;

    @BeforeEach
    void start() {
        tokens = Tokens.hs256(keys);
        server = TestServer.start(c -> c.withAuth(tokens.config()));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    /** Accepted now thanks to the clock-skew allowance, and expiring for good about five seconds from now. */
    private String expiringSoon(List<String> sub) {
        Instant exp = Instant.now().minusSeconds(JwtAuthenticator.CLOCK_SKEW_SECONDS - 5);
        return tokens.sign(Tokens.claims("alice", Tokens.rights(NONE, sub, NONE, NONE, false))
                .notBeforeTime(Date.from(exp.minusSeconds(60))).expirationTime(Date.from(exp)));
    }

    private String token(List<String> pub, List<String> sub) {
        return tokens.sign(Tokens.claims("alice", Tokens.rights(pub, sub, NONE, NONE, false)));
    }

    private HttpResponse<String> send(String method, String path, String token, String body) {
        return server.send(HttpRequest.newBuilder(server.uri(path)).header("Authorization", "Bearer " + token)
                .header("Content-Type", "text/plain")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body)).build());
    }

    private WebSocket connect(String token, JsonFrames recorder) {
        return JsonFrames.connect(server, token, "", recorder);
    }

    @Test
    void webSocketOpsAreCheckedAgainstTheConnectionsToken() {
        JsonFrames r = new JsonFrames();
        WebSocket ws = connect(token(List.of("chat.>"), List.of("chat.>")), r);
        ws.sendText("{\"op\":\"publish\",\"topic\":\"secret.x\",\"data\":\"leak\",\"id\":\"p1\"}", true).join();
        assertThat(r.reply("p1").path("code").asText()).isEqualTo("forbidden");
        ws.sendText("{\"op\":\"subscribe\",\"topic\":\"secret.x\",\"id\":\"s1\"}", true).join();
        assertThat(r.reply("s1").path("code").asText()).isEqualTo("forbidden");
        ws.sendText("{\"op\":\"publish\",\"topic\":\"chat.a\",\"data\":\"hi\",\"id\":\"p2\"}", true).join();
        assertThat(r.reply("p2").path("op").asText()).isEqualTo("ack");
        ws.sendText("{\"op\":\"subscribe\",\"topic\":\"chat.a\",\"from\":\"earliest\",\"id\":\"s2\"}", true).join();
        assertThat(r.reply("s2").path("op").asText()).isEqualTo("subscribed");
        await().atMost(Duration.ofSeconds(10)).until(() -> r.messages().stream()
                .anyMatch(d -> d.asText().equals("hi")));
        String admin = tokens.sign(Tokens.claims("root", Tokens.rights(NONE, NONE, NONE, NONE, true)));
        assertThat(send("GET", "/v1/topics/secret.x", admin, null).statusCode()).as("nothing stored").isEqualTo(404);
        ws.abort();
    }

    @Test
    void webSocketIsClosedWith4001WhenItsTokenExpires() {
        JsonFrames r = new JsonFrames();
        connect(expiringSoon(List.of("chat.>")), r);
        assertThat(r.closeCode.orTimeout(20, TimeUnit.SECONDS).join()).isEqualTo(4001);
        assertThat(r.closeReason).isEqualTo("token_expired");
    }

    @Test
    void sseEndsWithTokenExpiredErrorEvent() {
        List<Event> events = new CopyOnWriteArrayList<>();
        HttpClientSse sse = HttpClientSse.open(server.http(), server.uri("/v1/topics/chat.b/events"), events::add,
                "Authorization", "Bearer " + expiringSoon(List.of("chat.b")));
        try {
            await().atMost(Duration.ofSeconds(20)).until(sse::ended);
            assertThat(events).anySatisfy(e -> {
                assertThat(e.type()).isEqualTo("error");
                assertThat(e.data()).contains("\"code\":\"token_expired\"");
            });
        } finally {
            sse.close();
        }
    }

    @Slow
    @Test
    void aTokenKeepsWorkingAcrossARestartAndReadersResumeByOffset() {
        String token = token(List.of("orders"), List.of("orders"));
        assertThat(send("POST", "/v1/topics/orders/messages", token, "one").statusCode()).isEqualTo(201);
        server.restart();
        assertThat(send("POST", "/v1/topics/orders/messages", token, "two").statusCode()).isEqualTo(201);
        HttpResponse<String> poll = send("GET", "/v1/topics/orders/messages?from=2", token, null);
        assertThat(poll.statusCode()).isEqualTo(200);
        assertThat(poll.body()).contains("\"data\":\"two\"").doesNotContain("\"data\":\"one\"");
        List<Event> events = new CopyOnWriteArrayList<>();
        HttpClientSse sse = HttpClientSse.open(server.http(), server.uri("/v1/topics/orders/events"), events::add,
                "Authorization", "Bearer " + token, "Last-Event-ID", "1");
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> sse.messageIds().contains(2L));
            assertThat(sse.messageIds()).containsExactly(2L);
        } finally {
            sse.close();
        }
    }
}
