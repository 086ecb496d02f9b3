package dev.switchboard.groups;

import dev.switchboard.config.ServerConfig;
import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.Slow;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The limits and refusals of group calls on Redis, where groups.lua enforces them. */
@Slow
class GroupLimitsRedisTest extends GroupLimitsTest {
    @TempDir
    static Path dir;
    private static RedisServer redis;

    @BeforeAll
    static void startRedis() {
        redis = RedisServer.start(dir.resolve("redis"));
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @AfterEach
    void empty() {
        redis.cli("FLUSHALL");
    }

    @Override
    ServerConfig onEngine(ServerConfig config) {
        return config.withEngine(redis.uri());
    }
}
