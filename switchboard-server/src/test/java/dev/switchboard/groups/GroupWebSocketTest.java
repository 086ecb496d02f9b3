package dev.switchboard.groups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.testing.JsonFrames;
import dev.switchboard.testing.TestServer;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A WebSocket connection as a group member: pushed only as fast as it acknowledges, its leases freed on close. */
class GroupWebSocketTest {
    private TestServer server;
    private GroupHttp http;

    /** The engine's setting of the server config: the embedded engine here, Redis in a subclass. */
    ServerConfig onEngine(ServerConfig config) {
        return config;
    }

    @BeforeEach
    void start() {
        server = TestServer.start(this::onEngine);
        http = new GroupHttp(server.url());
    }

    @AfterEach
    void stop() {
        http.close();
        server.close();
    }

    private static List<JsonNode> groupMessages(JsonFrames frames) {
        return frames.ops.stream().filter(o -> o.path("op").asText().equals("message")).toList();
    }

    @Test
    void aMemberIsPushedOnlyAsFastAsItAcknowledges() {
        http.publish("tasks", 1, 10);
        JsonFrames frames = new JsonFrames();
        WebSocket ws = JsonFrames.connect(server, null, "", frames);
        ws.sendText("{\"op\":\"subscribe\",\"topic\":\"tasks\",\"group\":\"g\",\"maxInFlight\":3,\"id\":\"s\"}", true)
                .join();
        assertThat(frames.reply("s").path("op").asText()).isEqualTo("subscribed");
        await().atMost(Duration.ofSeconds(10)).until(() -> groupMessages(frames).size() == 3);
        // nothing more arrives while it holds three: an HTTP fetch of the group meanwhile takes the others
        assertThat(GroupHttp.offsets(http.fetch("tasks", "g", "other", 4, "0s"))).containsExactly(4L, 5L, 6L, 7L);
        assertThat(groupMessages(frames)).hasSize(3);
        assertThat(groupMessages(frames)).allMatch(m -> m.get("group").asText().equals("g")
                && m.get("deliveries").asInt() == 1 && m.get("data").asText().equals("m" + m.get("offset").asLong()));

        ws.sendText("{\"op\":\"ack\",\"topic\":\"tasks\",\"group\":\"g\",\"offsets\":[1,2],\"id\":\"a\"}", true).join();
        JsonNode acked = frames.reply("a");
        assertThat(acked.path("op").asText()).isEqualTo("acked");
        assertThat(acked.get("acked").toString()).isEqualTo("[1,2]");
        await().atMost(Duration.ofSeconds(10)).until(() -> groupMessages(frames).size() == 5);
        assertThat(groupMessages(frames).stream().map(m -> m.get("offset").asLong()))
                .containsExactly(1L, 2L, 3L, 8L, 9L);
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").join();
    }

    @Test
    void aClosedConnectionsLeasesReturnAtOnce() {
        http.publish("tasks", 1, 4);
        JsonFrames frames = new JsonFrames();
        WebSocket ws = JsonFrames.connect(server, null, "", frames);
        ws.sendText("{\"op\":\"subscribe\",\"topic\":\"tasks\",\"group\":\"g\",\"maxInFlight\":4}", true).join();
        await().atMost(Duration.ofSeconds(10)).until(() -> groupMessages(frames).size() == 4);
        ws.abort();
        // the default ack timeout is 30 s: these come back because the connection closed, not because a lease expired
        List<GroupHttp.Fetched> again = http.fetch("tasks", "g", "http", 10, "10s");
        assertThat(GroupHttp.offsets(again)).containsExactly(1L, 2L, 3L, 4L);
        assertThat(again).allMatch(f -> f.deliveries() == 2);
    }

    @Test
    void badGroupOpsGetErrorsAndKeepTheConnection() {
        JsonFrames frames = new JsonFrames();
        WebSocket ws = JsonFrames.connect(server, null, "", frames);
        ws.sendText("{\"op\":\"subscribe\",\"topic\":\"t\",\"group\":\"no/slash\",\"id\":\"1\"}", true).join();
        assertThat(frames.reply("1").path("code").asText()).isEqualTo("invalid_group");
        ws.sendText("{\"op\":\"subscribe\",\"topic\":\"t\",\"group\":\"g\",\"maxInFlight\":0,\"id\":\"2\"}", true).join();
        assertThat(frames.reply("2").path("code").asText()).isEqualTo("limit_exceeded");
        ws.sendText("{\"op\":\"ack\",\"topic\":\"t\",\"group\":\"g\",\"offsets\":\"1\",\"id\":\"3\"}", true).join();
        assertThat(frames.reply("3").path("code").asText()).isEqualTo("invalid_op");
        ws.sendText("{\"op\":\"ack\",\"topic\":\"t\",\"group\":\"none\",\"offsets\":[1],\"id\":\"4\"}", true).join();
        assertThat(frames.reply("4").path("code").asText()).isEqualTo("group_not_found");
        ws.sendText("{\"op\":\"unsubscribe\",\"topic\":\"t\",\"group\":\"g\",\"id\":\"5\"}", true).join();
        assertThat(frames.reply("5").path("code").asText()).isEqualTo("not_subscribed");
        assertThat(frames.closeCode).isNotDone();
    }
}
