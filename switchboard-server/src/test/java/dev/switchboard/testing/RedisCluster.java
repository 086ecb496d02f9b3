package dev.switchboard.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;

/**
 * A real Redis Cluster of three masters (Debian's redis-server with {@code cluster-enabled yes}, joined by
 * {@code redis-cli --cluster create}) on free loopback ports, for the tests of the engine on Redis Cluster; with
 * {@link #startWithReplicas} each master has a replica that takes over when it fails. Each node's cluster bus listens
 * on its port + 10000, so both must be free. {@link #close} stops every node.
 */
public final class RedisCluster implements AutoCloseable {
    private static final int MASTERS = 3;
    private static final int BUS_OFFSET = 10_000;
    private final List<RedisServer> nodes = new ArrayList<>();

    private RedisCluster() {}

    /** Starts the nodes in subdirectories of {@code dir}, creates the cluster and waits until it serves every slot. */
    public static RedisCluster start(Path dir) {
        return start(dir, 0, Duration.ofSeconds(5));
    }

    /**
     * Starts three masters and a replica of each, which the others promote once its master has not answered for
     * {@code nodeTimeout} ({@code cluster-node-timeout}); returns once every replica holds its master's data.
     */
    public static RedisCluster startWithReplicas(Path dir, Duration nodeTimeout) {
        RedisCluster c = start(dir, 1, nodeTimeout);
        Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> c.nodes.stream().filter(n -> !c.isMaster(n)).allMatch(n -> n.cli("INFO", "replication")
                        .contains("master_link_status:up")));
        return c;
    }

    private static RedisCluster start(Path dir, int replicasPerMaster, Duration nodeTimeout) {
        RedisCluster c = new RedisCluster();
        try {
            for (int i = 0; i < MASTERS * (1 + replicasPerMaster); i++) {
                Path nodeDir = dir.resolve("node" + i);
                c.nodes.add(RedisServer.start(nodeDir, portWithFreeBus(), "--cluster-enabled", "yes",
                        "--cluster-config-file", nodeDir.resolve("nodes.conf").toString(),
                        "--cluster-node-timeout", String.valueOf(nodeTimeout.toMillis())));
            }
            // redis-cli makes the first MASTERS nodes named the masters and the rest their replicas.
            List<String> create = new ArrayList<>(List.of("--cluster", "create"));
            c.nodes.forEach(n -> create.add("127.0.0.1:" + n.port()));
            create.addAll(List.of("--cluster-replicas", String.valueOf(replicasPerMaster), "--cluster-yes"));
            c.nodes.getFirst().cli(create.toArray(String[]::new));
            // Every node must know the whole slot map, not only the one redis-cli created it from.
            Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> c.nodes.stream().allMatch(n -> n.cli("CLUSTER", "INFO")
                            .contains("cluster_state:ok")));
            return c;
        } catch (RuntimeException | Error e) {
            c.close();
            throw e;
        }
    }

    /** Lettuce's URI of the cluster, naming every node as a seed. */
    public String uri() {
        return "redis-cluster://" + nodes.stream().map(n -> "127.0.0.1:" + n.port()).collect(Collectors.joining(","));
    }

    public List<RedisServer> nodes() {
        return nodes;
    }

    /** The master that serves the hash slot of {@code key}. */
    public RedisServer masterOf(String key) {
        return ownerOf(Integer.parseInt(nodes.getFirst().cli("CLUSTER", "KEYSLOT", key)));
    }

    /** The replica of {@code master} (ROLE on a replica: "slave", its master's host and port, …). */
    public RedisServer replicaOf(RedisServer master) {
        return nodes.stream().filter(n -> n != master && n.cli("ROLE").lines().skip(2).findFirst()
                        .equals(Optional.of(String.valueOf(master.port()))))
                .findFirst().orElseThrow(() -> new IllegalStateException("no replica of " + master.port()));
    }

    /** Whether {@code n} serves slots now (a replica becomes one when it takes over from its master). */
    public boolean isMaster(RedisServer n) {
        return n.cli("ROLE").startsWith("master");
    }

    /** Empties every master (FLUSHALL is per node in a cluster; replicas follow their master). */
    public void flushAll() {
        nodes.stream().filter(this::isMaster).forEach(n -> n.cli("FLUSHALL"));
    }

    /**
     * Moves the hash slot of {@code key} to another master, as {@code redis-cli --cluster reshard} moves slots: the
     * target imports it, the owner migrates its keys there ({@code MIGRATE}), then every node learns the new owner.
     */
    public void moveSlotOf(String key) {
        RedisServer first = nodes.getFirst();
        int slot = Integer.parseInt(first.cli("CLUSTER", "KEYSLOT", key));
        RedisServer from = ownerOf(slot);
        RedisServer to = nodes.stream().filter(n -> n != from && isMaster(n)).findFirst().orElseThrow();
        String fromId = from.cli("CLUSTER", "MYID");
        String toId = to.cli("CLUSTER", "MYID");
        String s = String.valueOf(slot);
        to.cli("CLUSTER", "SETSLOT", s, "IMPORTING", fromId);
        from.cli("CLUSTER", "SETSLOT", s, "MIGRATING", toId);
        for (String keys; !(keys = from.cli("CLUSTER", "GETKEYSINSLOT", s, "100")).isEmpty(); ) {
            List<String> migrate = new ArrayList<>(List.of("MIGRATE", "127.0.0.1", String.valueOf(to.port()), "",
                    "0", "5000", "KEYS"));
            migrate.addAll(List.of(keys.split("\n")));
            from.cli(migrate.toArray(String[]::new));
        }
        for (RedisServer n : List.of(to, from)) {
            n.cli("CLUSTER", "SETSLOT", s, "NODE", toId);
        }
        Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> nodes.stream().allMatch(n -> ownerOf(slot, n) == to));
    }

    /** The master that serves {@code slot}, as the first node sees it. */
    private RedisServer ownerOf(int slot) {
        return ownerOf(slot, nodes.getFirst());
    }

    private RedisServer ownerOf(int slot, RedisServer askedNode) {
        // CLUSTER NODES: "<id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot or range>..."
        for (String line : askedNode.cli("CLUSTER", "NODES").split("\n")) {
            String[] f = line.trim().split(" ");
            for (int i = 8; i < f.length; i++) {
                String[] range = f[i].split("-");
                if (range[0].startsWith("[")) {
                    continue; // a slot being imported or migrated
                }
                int low = Integer.parseInt(range[0]);
                int high = range.length > 1 ? Integer.parseInt(range[1]) : low;
                if (slot >= low && slot <= high) {
                    int port = Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1, f[1].indexOf('@')));
                    return nodes.stream().filter(n -> n.port() == port).findFirst().orElseThrow();
                }
            }
        }
        throw new IllegalStateException("no master serves slot " + slot);
    }

    @Override
    public void close() {
        nodes.forEach(RedisServer::close);
    }

    /** A free port whose cluster bus port (+10000) is a valid port and free as well. */
    private static int portWithFreeBus() {
        for (int attempt = 0; attempt < 100; attempt++) {
            int port = RedisServer.freePort();
            if (port + BUS_OFFSET <= 65_535 && free(port + BUS_OFFSET)) {
                return port;
            }
        }
        throw new IllegalStateException("no free port with a free cluster bus port");
    }

    private static boolean free(int port) {
        try {
            new ServerSocket(port).close();
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
