package dev.switchboard.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testing.PausableProxy;
import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node hears of new topics by announcements on its Redis subscription, and an announcement may still be on its way
 * when a pattern starts there. A topic created before the pattern began is one the pattern lists, started after
 * what it held; were its late announcement taken as news, the pattern would replay the topic from its first offset.
 * A proxy between the node and Redis holds the announcement back while the pattern starts.
 */
@Slow
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RedisLateAnnouncementTest {
    @TempDir
    Path dir;

    @Test
    void aTopicCreatedBeforeAPatternBeganStartsAfterWhatItHeldThoughItsAnnouncementArrivesLate() throws Exception {
        try (RedisServer redis = RedisServer.start(dir.resolve("redis"));
             PausableProxy proxy = PausableProxy.to(redis.port());
             TestServer follower = TestServer.start(c -> c.withEngine("redis://127.0.0.1:" + proxy.port()));
             TestServer creator = TestServer.start(c -> c.withEngine(redis.uri()));
             WsClient earlier = WsClient.connect(follower, "/v1/ws");
             WsClient later = WsClient.connect(follower, "/v1/ws")) {
            // The follower listens for new topics from its first pattern on.
            earlier.send("{\"op\":\"subscribe\",\"topic\":\"room.*\",\"id\":\"1\"}");
            assertThat(earlier.next().get("op").asText()).isEqualTo("subscribed");

            proxy.pause();
            // Announced to the follower by Redis at once; the proxy holds the announcement.
            assertThat(creator.post("/v1/topics/room.late/messages", "text/plain", "before").statusCode())
                    .isEqualTo(201);
            later.send("{\"op\":\"subscribe\",\"topic\":\"room.*\",\"id\":\"2\"}");
            // The pattern is starting: it waits on Redis (its listing, or what orders it after earlier news).
            await().atMost(Duration.ofSeconds(10)).until(() -> proxy.holdsFromClients("switchboard:topics")
                    || proxy.holdsFromClients("PING"));
            proxy.resume();

            JsonNode subscribed = later.next();
            assertThat(subscribed.get("op").asText()).isEqualTo("subscribed");
            assertThat(subscribed.get("following").get("room.late").asLong()).as("after the message stored")
                    .isEqualTo(2);
            assertThat(creator.post("/v1/topics/room.late/messages", "text/plain", "after").statusCode())
                    .isEqualTo(201);
            JsonNode first = later.next();
            assertThat(first.get("op").asText()).isEqualTo("message");
            assertThat(first.get("data").asText()).as("the first message the later pattern gets").isEqualTo("after");
            assertThat(first.get("offset").asLong()).isEqualTo(2);

            // The pattern that was there before the topic got all of it, from its first offset.
            assertThat(earlier.next().get("data").asText()).isEqualTo("before");
            assertThat(earlier.next().get("data").asText()).isEqualTo("after");
        }
    }
}
