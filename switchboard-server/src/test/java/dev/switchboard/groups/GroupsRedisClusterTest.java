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
 * The group contract on a three-master Redis Cluster: a group's records take its topic's hash slot, so a message
 * delivered too often moves to {@code <topic>.dead} in one script with the removal of its lease.
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
