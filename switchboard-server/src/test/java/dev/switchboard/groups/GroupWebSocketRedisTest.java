package dev.switchboard.groups;

import dev.switchboard.config.ServerConfig;
import dev.switchboard.testing.RedisPerClass;
import dev.switchboard.testing.Slow;
import org.junit.jupiter.api.extension.RegisterExtension;

/** WebSocket group members on Redis: their leases in groups.lua, given back by it when the connection closes. */
@Slow
class GroupWebSocketRedisTest extends GroupWebSocketTest {
    @RegisterExtension
    static final RedisPerClass redis = RedisPerClass.emptiedBeforeEachTest();

    @Override
    ServerConfig onEngine(ServerConfig config) {
        return config.withEngine(redis.uri());
    }
}
