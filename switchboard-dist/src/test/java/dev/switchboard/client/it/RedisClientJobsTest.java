package dev.switchboard.client.it;

import dev.switchboard.client.Switchboard;
import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** {@link ClientJobsTest}'s client jobs, on a server whose engine is a real redis-server this class starts and stops. */
@Slow
class RedisClientJobsTest extends ClientJobsTest {
    @TempDir
    static Path dir;
    private static RedisServer redis;

    @Override
    @BeforeAll
    void start() {
        redis = RedisServer.start(dir.resolve("redis"));
        server = TestServer.start(c -> c.withEngine(redis.uri()));
        client = Switchboard.connect(server.url());
    }

    @Override
    @AfterAll
    void stop() {
        client.close();
        server.close();
        redis.close();
    }
}
