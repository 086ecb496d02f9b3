package dev.switchboard.groups;

import dev.switchboard.config.ServerConfig;
import dev.switchboard.testing.RedisPerClass;
import dev.switchboard.testing.Slow;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The limits and refusals of group calls on Redis, where groups.lua enforces them. */
@Slow
class GroupLimitsRedisTest extends GroupLimitsTest {
    @RegisterExtension
    static final RedisPerClass redis = RedisPerClass.emptiedBeforeEachTest();

    @Override
    ServerConfig onEngine(ServerConfig config) {
        return config.withEngine(redis.uri());
    }
}
