package dev.switchboard.stream;

import dev.switchboard.testing.RedisCluster;
import dev.switchboard.testing.Slow;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Timeout;

/**
 * {@link NatsNodesContract} on a Redis Cluster of three masters: the live script, its groups hash and its sharded
 * channel run on the master of their one slot.
 */
@Slow
@Timeout(180)
class NatsClusterNodesTest extends NatsNodesContract {
    private RedisCluster cluster;

    @Override
    String startRedis(Path dir) {
        cluster = RedisCluster.start(dir);
        return cluster.uri();
    }

    @Override
    String cli(String... args) {
        // -c: redis-cli follows the cluster to the master of the command's key or shard channel.
        List<String> clustered = new ArrayList<>(List.of("-c"));
        clustered.addAll(List.of(args));
        return cluster.nodes().getFirst().cli(clustered.toArray(String[]::new));
    }

    @Override
    void stopRedis() {
        cluster.close();
    }
}
