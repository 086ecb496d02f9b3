package dev.switchboard.config;

import java.nio.file.Path;
import dev.switchboard.broker.Retention;
import java.time.Duration;
import java.util.List;

/**
 * Everything {@code switchboard serve} is configured with.
 *
 * @param bind             address to listen on
 * @param port             TCP port (0 = any free port, useful in tests)
 * @param dataDir          where the durable log lives (the embedded engine only)
 * @param fsync            fsync policy of the log
 * @param fsyncInterval    how often {@link FsyncPolicy#BATCH} fsyncs
 * @param io               event-loop engine
 * @param ioThreads        event-loop threads (0 = one per core)
 * @param socket           per-connection socket options
 * @param limits           input limits
 * @param sseHeartbeat     interval of SSE heartbeat comments
 * @param wsPingInterval   interval of WebSocket pings; a peer silent for two intervals is closed
 * @param defaultRetention retention of a topic until {@code PUT /v1/topics/{topic}} sets its own
 * @param idempotencyTtl   how long an {@code Idempotency-Key} is remembered
 * @param corsOrigins      browser origins allowed to call the API from other pages ({@code *} = any, empty = none)
 * @param stageSample      time one event in this many per connection and stage for {@code switchboard_stage_seconds}
 *                         (0 = stage timing off, 1 = every event)
 * @param auth             how callers authenticate (docs/auth.md)
 * @param allowedHosts     Host names the server answers to besides, on a loopback bind, the loopback names (a
 *                         non-loopback server with none answers to any)
 * @param engine           where topics are stored: {@link #EMBEDDED} (the log in {@code dataDir}), or a Redis that
 *                         several nodes share, as a Lettuce URI ({@code redis://host:port},
 *                         {@code redis-sentinel://h1:26379,h2:26379#master}, a Redis Cluster's
 *                         {@code redis-cluster://h1:p1,h2:p2}; docs/cluster.md)
 * @param redisWaitReplicas with Redis: replicas that must hold a change before it is acknowledged (0 = none)
 * @param groups           consumer groups' lease, redelivery and limits
 * @param natsPort         TCP port of the NATS core protocol (docs/nats.md), {@link #NATS_OFF} when off, 0 = any free
 * @param protocols        TLS and HTTP/2 of the listening port
 */
public record ServerConfig(String bind, int port, Path dataDir, FsyncPolicy fsync, Duration fsyncInterval,
                           IoMode io, int ioThreads, SocketOptions socket, Limits limits, Duration sseHeartbeat,
                           Duration wsPingInterval, Retention defaultRetention, Duration idempotencyTtl,
                           List<String> corsOrigins, int stageSample, AuthConfig auth,
                           List<String> allowedHosts, String engine, int redisWaitReplicas, GroupSettings groups,
                           int natsPort, Protocols protocols) {
    public static final String EMBEDDED = "embedded";
    /** {@link #natsPort} when the NATS port is off (the default). */
    public static final int NATS_OFF = -1;

    /**
     * Stage timing's default sampling. A timed publish cost 0.6-1.2 µs more in StageTimerBenchmark (three histogram
     * updates, on a shared machine at load 8.5 on 2 cores), against ~20 µs of CPU per publish and under 1 µs per
     * fan-out delivery (a flush of one message is timed like one stage): one in 64 keeps both around 1 % or less.
     */
    public static final int DEFAULT_STAGE_SAMPLE = 64;

    /** Whether the embedded engine stores the topics (else Redis, at {@link #engine}). */
    public boolean embedded() {
        return engine.equals(EMBEDDED);
    }

    /** Defaults for tests and embedding: loopback, any free port, the given data directory. */
    public static ServerConfig forTests(Path dataDir) {
        return new ServerConfig("127.0.0.1", 0, dataDir, FsyncPolicy.BATCH, Duration.ofMillis(100), IoMode.AUTO, 2,
                SocketOptions.defaults(), Limits.defaults(), Duration.ofSeconds(15), Duration.ofSeconds(30),
                Retention.UNLIMITED, Duration.ofHours(24), List.of(), DEFAULT_STAGE_SAMPLE, AuthConfig.NONE, List.of(),
                EMBEDDED, 0, GroupSettings.DEFAULTS, NATS_OFF, Protocols.DEFAULTS);
    }

    public ServerConfig withLimits(Limits newLimits) {
        return new ServerConfig(bind, port, dataDir, fsync, fsyncInterval, io, ioThreads, socket, newLimits,
                sseHeartbeat, wsPingInterval, defaultRetention, idempotencyTtl, corsOrigins, stageSample, auth,
                allowedHosts, engine, redisWaitReplicas, groups, natsPort, protocols);
    }

    public ServerConfig withFsync(FsyncPolicy policy) {
        return new ServerConfig(bind, port, dataDir, policy, fsyncInterval, io, ioThreads, socket, limits,
                sseHeartbeat, wsPingInterval, defaultRetention, idempotencyTtl, corsOrigins, stageSample, auth,
                allowedHosts, engine, redisWaitReplicas, groups, natsPort, protocols);
    }

    public ServerConfig withPort(int newPort) {
        return new ServerConfig(bind, newPort, dataDir, fsync, fsyncInterval, io, ioThreads, socket, limits,
                sseHeartbeat, wsPingInterval, defaultRetention, idempotencyTtl, corsOrigins, stageSample, auth,
                allowedHosts, engine, redisWaitReplicas, groups, natsPort, protocols);
    }

    public ServerConfig withSocket(SocketOptions options) {
        return new ServerConfig(bind, port, dataDir, fsync, fsyncInterval, io, ioThreads, options, limits,
                sseHeartbeat, wsPingInterval, defaultRetention, idempotencyTtl, corsOrigins, stageSample, auth,
                allowedHosts, engine, redisWaitReplicas, groups, natsPort, protocols);
    }

    public ServerConfig withSseHeartbeat(Duration interval) {
        return new ServerConfig(bind, port, dataDir, fsync, fsyncInterval, io, ioThreads, socket, limits,
                interval, wsPingInterval, defaultRetention, idempotencyTtl, corsOrigins, stageSample, auth,
                allowedHosts, engine, redisWaitReplicas, groups, natsPort, protocols);
    }

    public ServerConfig withWsPingInterval(Duration interval) {
        return new ServerConfig(bind, port, dataDir, fsync, fsyncInterval, io, ioThreads, socket, limits,
                sseHeartbeat, interval, defaultRetention, idempotencyTtl, corsOrigins, stageSample, auth, allowedHosts,
                engine, redisWaitReplicas, groups, natsPort, protocols);
    }

    public ServerConfig withCorsOrigins(List<String> origins) {
        return new ServerConfig(bind, port, dataDir, fsync, fsyncInterval, io, ioThreads, socket, limits,
                sseHeartbeat, wsPingInterval, defaultRetention, idempotencyTtl, origins, stageSample, auth,
                allowedHosts, engine, redisWaitReplicas, groups, natsPort, protocols);
    }

    public ServerConfig withDefaultRetention(Retention retention) {
        return new ServerConfig(bind, port, dataDir, fsync, fsyncInterval, io, ioThreads, socket, limits,
                sseHeartbeat, wsPingInterval, retention, idempotencyTtl, corsOrigins, stageSample, auth, allowedHosts,
                engine, redisWaitReplicas, groups, natsPort, protocols);
    }

    public ServerConfig withIo(IoMode mode) {
        return new ServerConfig(bind, port, dataDir, fsync, fsyncInterval, mode, ioThreads, socket, limits,
                sseHeartbeat, wsPingInterval, defaultRetention, idempotencyTtl, corsOrigins, stageSample, auth,
                allowedHosts, engine, redisWaitReplicas, groups, natsPort, protocols);
    }

    public ServerConfig withIoThreads(int threads) {
        return new ServerConfig(bind, port, dataDir, fsync, fsyncInterval, io, threads, socket, limits,
                sseHeartbeat, wsPingInterval, defaultRetention, idempotencyTtl, corsOrigins, stageSample, auth,
                allowedHosts, engine, redisWaitReplicas, groups, natsPort, protocols);
    }

    public ServerConfig withStageSample(int every) {
        return new ServerConfig(bind, port, dataDir, fsync, fsyncInterval, io, ioThreads, socket, limits,
                sseHeartbeat, wsPingInterval, defaultRetention, idempotencyTtl, corsOrigins, every, auth, allowedHosts,
                engine, redisWaitReplicas, groups, natsPort, protocols);
    }

    public ServerConfig withAuth(AuthConfig newAuth) {
        return new ServerConfig(bind, port, dataDir, fsync, fsyncInterval, io, ioThreads, socket, limits,
                sseHeartbeat, wsPingInterval, defaultRetention, idempotencyTtl, corsOrigins, stageSample, newAuth,
                allowedHosts, engine, redisWaitReplicas, groups, natsPort, protocols);
    }

    public ServerConfig withAllowedHosts(List<String> hosts) {
        return new ServerConfig(bind, port, dataDir, fsync, fsyncInterval, io, ioThreads, socket, limits,
                sseHeartbeat, wsPingInterval, defaultRetention, idempotencyTtl, corsOrigins, stageSample, auth, hosts,
                engine, redisWaitReplicas, groups, natsPort, protocols);
    }

    public ServerConfig withEngine(String newEngine) {
        return new ServerConfig(bind, port, dataDir, fsync, fsyncInterval, io, ioThreads, socket, limits,
                sseHeartbeat, wsPingInterval, defaultRetention, idempotencyTtl, corsOrigins, stageSample, auth,
                allowedHosts, newEngine, redisWaitReplicas, groups, natsPort, protocols);
    }

    public ServerConfig withNatsPort(int port) {
        return new ServerConfig(bind, this.port, dataDir, fsync, fsyncInterval, io, ioThreads, socket, limits,
                sseHeartbeat, wsPingInterval, defaultRetention, idempotencyTtl, corsOrigins, stageSample, auth,
                allowedHosts, engine, redisWaitReplicas, groups, port, protocols);
    }

    /** Whether the NATS port is on. */
    public boolean natsEnabled() {
        return natsPort != NATS_OFF;
    }

    public ServerConfig withRedisWaitReplicas(int replicas) {
        return new ServerConfig(bind, port, dataDir, fsync, fsyncInterval, io, ioThreads, socket, limits,
                sseHeartbeat, wsPingInterval, defaultRetention, idempotencyTtl, corsOrigins, stageSample, auth,
                allowedHosts, engine, replicas, groups, natsPort, protocols);
    }

    public ServerConfig withGroups(GroupSettings settings) {
        return new ServerConfig(bind, port, dataDir, fsync, fsyncInterval, io, ioThreads, socket, limits,
                sseHeartbeat, wsPingInterval, defaultRetention, idempotencyTtl, corsOrigins, stageSample, auth,
                allowedHosts, engine, redisWaitReplicas, settings, natsPort, protocols);
    }

    public ServerConfig withProtocols(Protocols newProtocols) {
        return new ServerConfig(bind, port, dataDir, fsync, fsyncInterval, io, ioThreads, socket, limits,
                sseHeartbeat, wsPingInterval, defaultRetention, idempotencyTtl, corsOrigins, stageSample, auth,
                allowedHosts, engine, redisWaitReplicas, groups, natsPort, newProtocols);
    }
}
