package dev.switchboard.testing;

import static org.awaitility.Awaitility.await;

import dev.switchboard.broker.Broker;
import dev.switchboard.broker.Retention;
import dev.switchboard.broker.TopicState;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.fanout.Delivery;
import dev.switchboard.fanout.TopicFeed;
import dev.switchboard.groups.GroupService;
import dev.switchboard.jobs.JobService;
import dev.switchboard.presence.Presence;
import dev.switchboard.log.EmbeddedBroker;
import dev.switchboard.server.ConnectionPipeline;
import dev.switchboard.xray.ConnectionRegistry;
import dev.switchboard.xray.StageTimer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * The server's connection handlers without sockets: the real embedded broker and job service on a temporary
 * directory, and connections ({@link TestConnection}) that carry the server's own {@link ConnectionPipeline}. The one
 * place handler tests build the broker and talk to it directly, so a change of the broker's API is adapted here.
 */
public final class HandlerFixture implements AutoCloseable {
    private final Path dir;
    private final ServerConfig config;
    private final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final EmbeddedBroker broker;
    private final Delivery delivery;
    private final ConnectionRegistry registry;
    private final JobService jobs;
    private final GroupService groups;
    private final ConnectionPipeline pipeline;
    private final List<TestConnection> connections = new ArrayList<>();
    private final List<TopicFeed> kept = new ArrayList<>();

    private HandlerFixture(Path dir, ServerConfig config) {
        this.dir = dir;
        this.config = config;
        this.broker = EmbeddedBroker.open(config, metrics);
        StageTimer stages = new StageTimer(config.stageSample(), metrics);
        this.registry = new ConnectionRegistry(stages, "embedded", metrics);
        this.jobs = new JobService(broker, config.limits());
        this.delivery = new Delivery(jobs.readers(), config.limits(), metrics, stages);
        this.groups = new GroupService(jobs.readers(), config.groups(), config.limits().maxPollResponseBytes(),
                metrics);
        this.pipeline = new ConnectionPipeline(ConnectionPipeline.routes(jobs.readers(), delivery, jobs, groups,
                Presence.open(broker), config, metrics, registry, ConnectionPipeline.authenticator(config), false),
                config.limits(), config.corsOrigins(), metrics, registry, config.protocols(), null, null);
    }

    /** The test defaults ({@link ServerConfig#forTests}) adjusted by {@code customize}. */
    public static HandlerFixture open(UnaryOperator<ServerConfig> customize) {
        try {
            Path dir = Files.createTempDirectory("switchboard-handlers");
            return new HandlerFixture(dir, customize.apply(ServerConfig.forTests(dir)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static HandlerFixture open() {
        return open(UnaryOperator.identity());
    }

    public ServerConfig config() {
        return config;
    }

    /** The registry {@code /metrics} shows. */
    public PrometheusMeterRegistry metrics() {
        return metrics;
    }

    /** A new client connection, opened (the server's pipeline has seen it become active). */
    public TestConnection connect() {
        TestConnection c = new TestConnection(pipeline::install);
        connections.add(c);
        return c;
    }

    // ---- the broker, driven directly ----

    /**
     * Opens the topic's feed as a live reader elsewhere would, so its newest messages are held in memory and a new
     * subscriber gets them at once instead of from the store, asynchronously.
     */
    public void keepInMemory(String topic) {
        kept.add(delivery.attach(topic));
    }

    /** Stores a text message and returns its offset. */
    public long publish(String topic, String text) {
        return broker.append(topic, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8), null).join()
                .offset();
    }

    /**
     * Keeps at most {@code retained} messages of the topic, publishes {@code m1…mN} to it and waits until retention
     * has dropped all but the last {@code retained}.
     */
    public void publishPastRetention(String topic, int retained, int published) {
        broker.setRetention(topic, new Retention((long) retained, null, null)).join();
        for (int i = 1; i <= published; i++) {
            publish(topic, "m" + i);
        }
        long first = published - retained + 1;
        await().atMost(Duration.ofSeconds(10)).until(() -> firstOffset(topic) == first);
    }

    public boolean delete(String topic) {
        return broker.delete(topic).join();
    }

    /** The first offset the topic still holds, or -1 when it does not exist. */
    public long firstOffset(String topic) {
        return broker.state(topic).map(TopicState::firstOffset).orElse(-1L);
    }

    /** Live push subscribers of the topic on {@code transport} ("sse", "ws"). */
    public int subscribers(String topic, String transport) {
        return delivery.readers(topic).getOrDefault(transport, 0);
    }

    public Broker broker() {
        return broker;
    }

    @Override
    public void close() {
        connections.forEach(TestConnection::finishAndReleaseAll);
        kept.forEach(delivery::release);
        jobs.close();
        groups.close();
        broker.close();
        registry.close();
        metrics.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp directory left behind is harmless
        }
    }
}
