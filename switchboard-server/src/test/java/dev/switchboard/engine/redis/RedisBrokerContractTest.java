package dev.switchboard.engine.redis;

import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.Slow;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The Redis engine keeps the engine contract, on a real redis-server that this class starts and stops. */
@Slow
class RedisBrokerContractTest extends RedisEngineContract {
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

    @Override
    protected String uri() {
        return redis.uri();
    }

    @Override
    protected void flushAll() {
        redis.cli("FLUSHALL");
    }
}
