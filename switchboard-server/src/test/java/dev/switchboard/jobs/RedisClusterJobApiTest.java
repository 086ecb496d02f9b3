package dev.switchboard.jobs;

import dev.switchboard.config.ServerConfig;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.util.function.UnaryOperator;

/** {@link JobApiTest}'s contract, on a server whose engine is a real three-master Redis Cluster. */
@Slow
class RedisClusterJobApiTest extends JobApiTest {
    @Override
    TestServer newServer(UnaryOperator<ServerConfig> customize) {
        return TestServer.onRedisCluster(customize);
    }
}
