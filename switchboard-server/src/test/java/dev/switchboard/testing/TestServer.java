package dev.switchboard.testing;

import dev.switchboard.config.IoMode;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.config.SidecarConfig;
import dev.switchboard.server.SwitchboardServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * A real server on a loopback port with its own data directory, for black-box tests over real sockets. Restartable on
 * the same directory (and port) to test durability. Close it to stop the server and delete the directory.
 */
public final class TestServer implements AutoCloseable {
    private final Path dataDir;
    private final UnaryOperator<ServerConfig> customize;
    private SidecarConfig sidecar = SidecarConfig.NONE;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private SwitchboardServer server;
    private int port;
    /** Stops the redis-server (or cluster) of a server on Redis, after the server; else null. */
    private Runnable stopRedis;
    private int natsPort;

    private TestServer(Path dataDir, UnaryOperator<ServerConfig> customize) {
        this.dataDir = dataDir;
        this.customize = customize;
    }

    public static TestServer start() {
        return start(UnaryOperator.identity());
    }

    /** Starts a server whose test defaults ({@link ServerConfig#forTests}) are adjusted by {@code customize}. */
    public static TestServer start(UnaryOperator<ServerConfig> customize) {
        try {
            TestServer s = new TestServer(Files.createTempDirectory("switchboard-test"), customize);
            s.boot(0);
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts a server in sidecar mode (docs/sidecar.md) in front of the upstreams {@code sidecar} names. */
    public static TestServer startSidecar(SidecarConfig sidecar, UnaryOperator<ServerConfig> customize) {
        try {
            TestServer s = new TestServer(Files.createTempDirectory("switchboard-test"), customize);
            s.sidecar = sidecar;
            s.boot(0);
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Starts a server whose engine is a real redis-server of its own, started here and stopped when the server is
     * closed: a suite written for the embedded engine runs on Redis through this.
     */
    public static TestServer onRedis(UnaryOperator<ServerConfig> customize) {
        return onOwnRedis(dir -> {
            RedisServer redis = RedisServer.start(dir.resolve("redis"));
            return new OwnRedis(redis.uri(), redis::close);
        }, customize);
    }

    /** As {@link #onRedis}, on a three-master Redis Cluster of its own ({@link RedisCluster}). */
    public static TestServer onRedisCluster(UnaryOperator<ServerConfig> customize) {
        return onOwnRedis(dir -> {
            RedisCluster cluster = RedisCluster.start(dir.resolve("cluster"));
            return new OwnRedis(cluster.uri(), cluster::close);
        }, customize);
    }

    /** A Redis started for one server: the engine URI, and how to stop it. */
    private record OwnRedis(String uri, Runnable stop) {}

    private static TestServer onOwnRedis(Function<Path, OwnRedis> start, UnaryOperator<ServerConfig> customize) {
        try {
            Path dir = Files.createTempDirectory("switchboard-test");
            OwnRedis redis = start.apply(dir);
            TestServer s = new TestServer(dir, c -> customize.apply(c).withEngine(redis.uri()));
            s.stopRedis = redis.stop();
            s.boot(0);
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Starts a server on a data directory the test provides (a small file system, say); closing the server deletes
     * what it leaves there.
     */
    public static TestServer startIn(Path dataDir, UnaryOperator<ServerConfig> customize) {
        TestServer s = new TestServer(dataDir, customize);
        s.boot(0);
        return s;
    }

    /**
     * The test defaults, on the engine named by the system property {@code switchboard.test.io} when it is set
     * ({@code -Dswitchboard.test.io=nio}: any suite runs on another engine; a test that picks its own still wins).
     */
    private ServerConfig defaults() {
        ServerConfig c = ServerConfig.forTests(dataDir);
        String io = System.getProperty("switchboard.test.io");
        return io == null || io.isBlank() ? c : c.withIo(IoMode.valueOf(io.trim().toUpperCase()));
    }

    private void boot(int onPort) {
        try {
            ServerConfig config = customize.apply(defaults()).withPort(onPort);
            // A restart keeps the NATS port too, so that NATS clients reconnect to it.
            server = SwitchboardServer.start(config.natsEnabled() && natsPort > 0 ? config.withNatsPort(natsPort)
                    : config, sidecar);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        port = server.port();
        natsPort = server.natsPort();
    }

    /** Stops the server cleanly and starts it again on the same data directory and port. */
    public void restart() {
        server.close();
        boot(port);
    }

    public SwitchboardServer server() {
        return server;
    }

    public Path dataDir() {
        return dataDir;
    }

    public int port() {
        return port;
    }

    /** The NATS port; the server must have been started with one ({@code c -> c.withNatsPort(0)}). */
    public int natsPort() {
        return natsPort;
    }

    public String natsUrl() {
        return "nats://127.0.0.1:" + natsPort;
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    public URI uri(String path) {
        return URI.create(url() + path);
    }

    public HttpClient http() {
        return http;
    }

    public HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET().build());
    }

    public HttpResponse<String> post(String path, String contentType, String body) {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    public HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
        if (stopRedis != null) {
            stopRedis.run();
        }
        http.close();
        try (Stream<Path> files = Files.walk(dataDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp directory left behind is harmless
        }
    }
}
