package dev.switchboard.stream;

import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.Slow;
import java.nio.file.Path;
import org.junit.jupiter.api.Timeout;

/** {@link NatsNodesContract} on one redis-server. */
@Slow
@Timeout(120)
class NatsNodesTest extends NatsNodesContract {
    private RedisServer redis;

    @Override
    String startRedis(Path dir) {
        redis = RedisServer.start(dir);
        return redis.uri();
    }

    @Override
    String cli(String... args) {
        return redis.cli(args);
    }

    @Override
    void stopRedis() {
        redis.close();
    }
}
