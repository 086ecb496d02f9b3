package dev.switchboard.groups;

import dev.switchboard.config.ServerConfig;
import dev.switchboard.testing.RedisPerClass;
import dev.switchboard.testing.Slow;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The group contract on Redis: each fetch, ack and release is one groups.lua script on the group's keys. */
@Slow
class GroupsRedisTest extends GroupContract {
    @RegisterExtension
    static final RedisPerClass redis = RedisPerClass.emptiedBeforeEachTest();

    @Override
    ServerConfig onEngine(ServerConfig config) {
        return config.withEngine(redis.uri());
    }
}
