package dev.switchboard.jobs;

import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** {@link JobLeaseTest}'s contract, on a server whose engine is a real redis-server this class starts and stops. */
@Slow
class RedisJobLeaseTest extends JobLeaseTest {
    @TempDir
    static Path dir;
    private static RedisServer redis;

    /** The same tests, on Redis. */
    @Override
    @BeforeAll
    void startServer() {
        redis = RedisServer.start(dir.resolve("redis"));
        server = TestServer.start(c -> c.withEngine(redis.uri()).withLimits(c.limits().withMaxMessageBytes(MAX_BYTES)));
        http = new JobHttp(server.http(), server.url());
    }

    @Override
    @AfterAll
    void stopServer() {
        server.close();
        redis.close();
    }
}
