package dev.switchboard.engine.redis;

import dev.switchboard.broker.Broker;
import dev.switchboard.broker.BrokerContractTest;
import dev.switchboard.broker.Retention;
import dev.switchboard.config.Limits;
import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.Slow;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The Redis engine keeps the engine contract, on a real redis-server that this class starts and stops. */
@Slow
class RedisBrokerContractTest extends BrokerContractTest {
    @TempDir
    static Path dir;
    private static RedisServer redis;

    private Limits limits;
    private Retention defaultRetention;
    private RedisBroker current;

    @BeforeAll
    static void startRedis() {
        redis = RedisServer.start(dir.resolve("redis"));
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @Override
    protected Broker open(Limits limits, Retention defaultRetention) {
        redis.cli("FLUSHALL");
        this.limits = limits;
        this.defaultRetention = defaultRetention;
        current = RedisBroker.open(redis.uri(), "sb:", limits, defaultRetention, Duration.ofHours(24),
                new SimpleMeterRegistry());
        return current;
    }

    @Override
    protected Broker restart() {
        current.close();
        current = RedisBroker.open(redis.uri(), "sb:", limits, defaultRetention, Duration.ofHours(24),
                new SimpleMeterRegistry());
        return current;
    }
}
