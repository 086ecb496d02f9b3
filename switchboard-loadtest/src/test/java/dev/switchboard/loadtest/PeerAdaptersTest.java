package dev.switchboard.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.loadtest.FanoutConfig.Target;
import dev.switchboard.loadtest.FanoutConfig.Transport;
import dev.switchboard.testing.PeerProcesses;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A short fan-out through each target: real {@code redis-server} and {@code nats-server} child processes on free
 * loopback ports, and a Switchboard {@link TestServer}. Every subscriber must get every message once, in order.
 */
@Slow
class PeerAdaptersTest {
    private static final int SUBSCRIBERS = 10;

    private final PeerProcesses peers = new PeerProcesses();
    private final List<AutoCloseable> servers = new ArrayList<>();

    @AfterEach
    void stopAll() throws Exception {
        peers.close();
        for (AutoCloseable s : servers) {
            s.close();
        }
    }

    @Test
    void redis() throws Exception {
        assertExact(run(Target.REDIS, peers.redis("--appendonly", "no").uri()), "redis-resp");
    }

    @Test
    void nats() throws Exception {
        assertExact(run(Target.NATS, peers.nats().uri()), "nats-core");
    }

    @Test
    void switchboard() throws Exception {
        TestServer server = TestServer.start();
        servers.add(server);
        assertExact(run(Target.SWITCHBOARD, URI.create(server.url())), "ws");
    }

    /** Publishers on one node, subscribers spread over two, all on one Redis (docs/cluster.md). */
    @Test
    void switchboardNodesOnRedis() throws Exception {
        String redis = peers.redis("--appendonly", "no").uri().toString();
        List<URI> nodes = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            TestServer node = TestServer.start(c -> c.withEngine(redis));
            servers.add(node);
            nodes.add(URI.create(node.url()));
        }
        assertExact(run(Target.SWITCHBOARD, nodes.getFirst(), nodes), "ws");
    }

    private static FanoutReport run(Target target, URI server) throws IOException, InterruptedException {
        return run(target, server, List.of());
    }

    private static FanoutReport run(Target target, URI server, List<URI> subscribeTo)
            throws IOException, InterruptedException {
        FanoutConfig config = new FanoutConfig(target, server, Transport.WS, SUBSCRIBERS, 64, 500,
                Duration.ofMillis(300), Duration.ofSeconds(1), Duration.ofSeconds(10), FanoutConfig.freshTopic(),
                2, 4, ClientIo.Mode.AUTO, 2, subscribeTo, null, 1);
        StringWriter err = new StringWriter();
        return new FanoutBenchmark(config, new PrintWriter(err, true)).run();
    }

    private static void assertExact(FanoutReport report, String transport) {
        assertThat(report.transport()).isEqualTo(transport);
        assertThat(report.errorSamples()).isEmpty();
        assertThat(report.failedSubscribers()).isEmpty();
        assertThat(report.errors().total()).as(report.toText()).isZero();
        assertThat(report.published()).as(report.toText()).isPositive();
        assertThat(report.delivered()).as(report.toText()).isEqualTo(report.published() * SUBSCRIBERS);
    }
}
