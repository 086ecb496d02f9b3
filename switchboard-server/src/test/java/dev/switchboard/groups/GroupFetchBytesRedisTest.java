package dev.switchboard.groups;

import dev.switchboard.broker.Broker;
import dev.switchboard.broker.Retention;
import dev.switchboard.config.Limits;
import dev.switchboard.engine.redis.RedisBroker;
import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.Slow;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;

/** The fetch byte limit on Redis, where groups.lua stops leasing at it. */
@Slow
class GroupFetchBytesRedisTest extends GroupFetchBytesTest {
    private RedisServer redis;

    @Override
    Broker open() {
        redis = RedisServer.start(dir.resolve("redis"));
        return RedisBroker.open(redis.uri(), "sb:", 0, Limits.defaults(), Retention.UNLIMITED, Duration.ofHours(1),
                new SimpleMeterRegistry());
    }

    @AfterEach
    void stopRedis() {
        redis.close();
    }
}
