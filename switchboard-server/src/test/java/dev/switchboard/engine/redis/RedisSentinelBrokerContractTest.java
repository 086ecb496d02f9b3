package dev.switchboard.engine.redis;

import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.Slow;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Redis engine keeps the engine contract when it finds its Redis through Sentinel
 * ({@code redis-sentinel://host:port#master}): a real master and a real Sentinel, started and stopped here.
 */
@Slow
class RedisSentinelBrokerContractTest extends RedisEngineContract {
    @TempDir
    static Path dir;
    private static RedisServer master;
    private static RedisServer sentinel;

    @BeforeAll
    static void startRedisAndSentinel() {
        master = RedisServer.start(dir.resolve("master"));
        sentinel = RedisServer.sentinel(dir.resolve("sentinel"), master, "switchboard");
    }

    @AfterAll
    static void stop() {
        sentinel.close();
        master.close();
    }

    @Override
    protected String uri() {
        return "redis-sentinel://127.0.0.1:" + sentinel.port() + "#switchboard";
    }

    @Override
    protected void flushAll() {
        master.cli("FLUSHALL");
    }
}
