package dev.switchboard.groups;

import dev.switchboard.config.ServerConfig;
import dev.switchboard.testing.RedisCluster;
import dev.switchboard.testing.Slow;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The group contract on a three-master Redis Cluster: each group operation is one script in its topic's slot, and a
 * message delivered too often moves to {@code <topic>.dead} (which takes the topic's slot) with the removal of its
 * lease.
 */
@Slow
class GroupsRedisClusterTest extends GroupContract {
    @TempDir
    static Path dir;
    private static RedisCluster cluster;

    @BeforeAll
    static void startCluster() {
        cluster = RedisCluster.start(dir);
    }

    @AfterAll
    static void stopCluster() {
        cluster.close();
    }

    @BeforeEach
    void empty() {
        cluster.flushAll();
    }

    @Override
    ServerConfig onEngine(ServerConfig config) {
        return config.withEngine(cluster.uri());
    }
}
