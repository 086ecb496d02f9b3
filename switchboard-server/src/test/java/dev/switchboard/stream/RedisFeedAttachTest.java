package dev.switchboard.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testing.PausableProxy;
import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The first reader of a topic on a node waits for Redis (the topic's state, its subscription) off the event loop:
 * with Redis stalled (a proxy that stops forwarding) and one event loop, a request on another connection is served
 * while the subscribe is still waiting, and the subscribe completes once Redis answers.
 */
@Slow
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RedisFeedAttachTest {
    @TempDir
    Path dir;

    @Test
    void aSubscribeWaitingOnRedisLeavesItsEventLoopFree() throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (RedisServer redis = RedisServer.start(dir.resolve("redis"));
             PausableProxy proxy = PausableProxy.to(redis.port());
             TestServer server = TestServer.start(c -> c.withEngine("redis://127.0.0.1:" + proxy.port())
                     .withIoThreads(1))) {
            proxy.pause();
            CompletableFuture<HttpResponse<InputStream>> sse = http.sendAsync(HttpRequest.newBuilder(
                    server.uri("/v1/topics/fresh/events")).build(), HttpResponse.BodyHandlers.ofInputStream());
            // The node asked Redis about the topic: the subscribe is being attached, and Redis does not answer.
            await().atMost(Duration.ofSeconds(10)).until(() -> proxy.holdsFromClients("{fresh}"));

            HttpResponse<String> health = http.send(HttpRequest.newBuilder(server.uri("/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(sse).as("the subscribe still waits for Redis").isNotDone();

            proxy.resume();
            HttpResponse<InputStream> stream = sse.get(10, TimeUnit.SECONDS);
            assertThat(stream.statusCode()).isEqualTo(200);
            assertThat(server.post("/v1/topics/fresh/messages", "text/plain", "hello").statusCode()).isEqualTo(201);
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(stream.body(),
                    StandardCharsets.UTF_8))) {
                String line;
                do {
                    line = lines.readLine();
                } while (line != null && !line.equals("data: hello"));
                assertThat(line).as("the message published after the stream began").isEqualTo("data: hello");
            }
        }
    }

    /** On WebSocket the connection's later ops wait for the subscribe, so its replies keep the ops' order. */
    @Test
    void aWebSocketSubscribeWaitingOnRedisLeavesItsEventLoopFreeAndKeepsTheOrderOfReplies() throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (RedisServer redis = RedisServer.start(dir.resolve("redis"));
             PausableProxy proxy = PausableProxy.to(redis.port());
             TestServer server = TestServer.start(c -> c.withEngine("redis://127.0.0.1:" + proxy.port())
                     .withIoThreads(1));
             WsClient ws = WsClient.connect(server, "/v1/ws")) {
            proxy.pause();
            ws.send("{\"op\":\"subscribe\",\"topic\":\"fresh.ws\",\"id\":\"1\"}");
            ws.send("{\"op\":\"nonsense\",\"id\":\"2\"}");
            await().atMost(Duration.ofSeconds(10)).until(() -> proxy.holdsFromClients("{fresh.ws}"));

            HttpResponse<String> health = http.send(HttpRequest.newBuilder(server.uri("/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(ws.inbox).as("no reply before the subscribe's").isEmpty();

            proxy.resume();
            JsonNode subscribed = ws.next();
            assertThat(subscribed.get("op").asText()).isEqualTo("subscribed");
            assertThat(subscribed.get("id").asText()).isEqualTo("1");
            JsonNode refused = ws.next();
            assertThat(refused.get("op").asText()).isEqualTo("error");
            assertThat(refused.get("id").asText()).isEqualTo("2");
            assertThat(server.post("/v1/topics/fresh.ws/messages", "text/plain", "hello").statusCode()).isEqualTo(201);
            JsonNode message = ws.next();
            assertThat(message.get("op").asText()).isEqualTo("message");
            assertThat(message.get("data").asText()).isEqualTo("hello");
        }
    }

    /**
     * A WebSocket pattern subscribe lists its topics (a round trip) and opens their feeds (one each) off the loop; the
     * connection's later ops wait, so the {@code subscribed} reply, with the topics it found, comes first.
     */
    @Test
    void aWebSocketPatternSubscribeWaitingOnRedisLeavesItsEventLoopFreeAndKeepsTheOrderOfReplies() throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (RedisServer redis = RedisServer.start(dir.resolve("redis"));
             PausableProxy proxy = PausableProxy.to(redis.port());
             TestServer server = TestServer.start(c -> c.withEngine("redis://127.0.0.1:" + proxy.port())
                     .withIoThreads(1));
             WsClient ws = WsClient.connect(server, "/v1/ws")) {
            // Created before the node listens for new topics: listed, never announced.
            assertThat(server.post("/v1/topics/room.a/messages", "text/plain", "before").statusCode()).isEqualTo(201);
            assertThat(server.post("/v1/topics/desk.a/messages", "text/plain", "before").statusCode()).isEqualTo(201);
            proxy.pause();
            ws.send("{\"op\":\"subscribe\",\"topic\":\"room.*\",\"id\":\"1\"}");
            ws.send("{\"op\":\"nonsense\",\"id\":\"2\"}");
            // The node began following the pattern (it listens for new topics before listing them); Redis is silent.
            await().atMost(Duration.ofSeconds(10)).until(() -> proxy.holdsFromClients("switchboard:created"));

            HttpResponse<String> health = http.send(HttpRequest.newBuilder(server.uri("/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(ws.inbox).as("no reply before the subscribe's").isEmpty();

            proxy.resume();
            JsonNode subscribed = ws.next();
            assertThat(subscribed.get("op").asText()).isEqualTo("subscribed");
            assertThat(subscribed.get("id").asText()).isEqualTo("1");
            assertThat(subscribed.get("following").get("room.a").asLong()).as("after the message stored").isEqualTo(2);
            JsonNode refused = ws.next();
            assertThat(refused.get("op").asText()).isEqualTo("error");
            assertThat(refused.get("id").asText()).isEqualTo("2");
            // A listed topic, then one created later: each feed opened, each message delivered.
            assertThat(server.post("/v1/topics/room.a/messages", "text/plain", "listed").statusCode()).isEqualTo(201);
            JsonNode listed = ws.next();
            assertThat(listed.get("topic").asText()).isEqualTo("room.a");
            assertThat(listed.get("data").asText()).isEqualTo("listed");
            assertThat(server.post("/v1/topics/room.b/messages", "text/plain", "created").statusCode()).isEqualTo(201);
            JsonNode created = ws.next();
            assertThat(created.get("topic").asText()).isEqualTo("room.b");
            assertThat(created.get("data").asText()).isEqualTo("created");

            // The node listens for new topics already: another pattern waits on Redis to order it after the news
            // heard so far (a PING), then on its listing, off the loop too.
            proxy.pause();
            ws.send("{\"op\":\"subscribe\",\"topic\":\"desk.*\",\"id\":\"3\"}");
            await().atMost(Duration.ofSeconds(10)).until(() -> proxy.holdsFromClients("PING"));
            assertThat(http.send(HttpRequest.newBuilder(server.uri("/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            assertThat(ws.inbox).isEmpty();
            proxy.resume();
            JsonNode second = ws.next();
            assertThat(second.get("id").asText()).isEqualTo("3");
            assertThat(second.get("following").get("desk.a").asLong()).isEqualTo(2);
        }
    }

    /**
     * On NATS a SUB's later ops wait for it: the PONG to a PING after it says the SUB is live. A literal SUB waits on
     * its topic's feed ({@code held}: the topic's keys), a wildcard on the node's first listen for new topics (a
     * subscription in Redis); either leaves the loop free meanwhile.
     */
    @ParameterizedTest(name = "SUB {0}")
    @CsvSource({"fresh.nats, '{fresh.nats}', fresh.nats", "wild.*, switchboard:created, wild.new"})
    void aNatsSubWaitingOnRedisLeavesItsEventLoopFreeAndItsPongWaitsForIt(String subject, String held,
                                                                          String publishedTo) throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (RedisServer redis = RedisServer.start(dir.resolve("redis"));
             PausableProxy proxy = PausableProxy.to(redis.port());
             TestServer server = TestServer.start(c -> c.withEngine("redis://127.0.0.1:" + proxy.port())
                     .withIoThreads(1).withNatsPort(0));
             Socket nats = new Socket("127.0.0.1", server.natsPort())) {
            BufferedReader in = new BufferedReader(new InputStreamReader(nats.getInputStream(),
                    StandardCharsets.UTF_8));
            OutputStream out = nats.getOutputStream();
            assertThat(in.readLine()).startsWith("INFO ");
            proxy.pause();
            out.write(("CONNECT {\"verbose\":false}\r\nSUB " + subject + " 1\r\nPING\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            await().atMost(Duration.ofSeconds(10)).until(() -> proxy.holdsFromClients(held));

            HttpResponse<String> health = http.send(HttpRequest.newBuilder(server.uri("/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(nats.getInputStream().available()).as("no PONG before the SUB is live").isZero();

            proxy.resume();
            assertThat(in.readLine()).isEqualTo("PONG");
            assertThat(server.post("/v1/topics/" + publishedTo + "/messages", "text/plain", "hello").statusCode())
                    .isEqualTo(201);
            assertThat(in.readLine()).startsWith("MSG " + publishedTo + " 1 ");
            assertThat(in.readLine()).isEqualTo("hello");
        }
    }
}
