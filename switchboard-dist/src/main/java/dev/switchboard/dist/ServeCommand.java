package dev.switchboard.dist;

import dev.switchboard.broker.Retention;
import dev.switchboard.cli.DurationConverter;
import dev.switchboard.cli.LowerEnum;
import dev.switchboard.config.AuthConfig;
import dev.switchboard.config.FsyncPolicy;
import dev.switchboard.config.IoMode;
import dev.switchboard.config.Limits;
import dev.switchboard.config.Protocols;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.config.GroupSettings;
import dev.switchboard.config.SidecarConfig;
import dev.switchboard.config.SocketOptions;
import dev.switchboard.config.UpstreamRoute;
import dev.switchboard.server.SwitchboardServer;
import io.netty.util.ResourceLeakDetector;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code switchboard serve}: runs the server until interrupted. Every option also reads {@code SWITCHBOARD_*}. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run the server. Every option can also be set as SWITCHBOARD_<OPTION> (e.g. SWITCHBOARD_DATA_DIR).")
final class ServeCommand implements Callable<Integer> {

    @Option(names = "--port", defaultValue = "8080", description = "TCP port. Default: ${DEFAULT-VALUE}")
    int port;

    @Option(names = "--nats-port",
            description = "Also speak the NATS core protocol on this TCP port (docs/nats.md). Default: off")
    Integer natsPort;

    @Option(names = "--bind", defaultValue = "127.0.0.1", description = "Address to listen on. Default: ${DEFAULT-VALUE}")
    String bind;

    @Option(names = "--tls-cert", description = "PEM certificate chain (leaf first): the port speaks TLS only, ALPN h2 and http/1.1; re-read when it changes (docs/tls.md)")
    Path tlsCert;

    @Option(names = "--tls-key", description = "PEM private key of --tls-cert; re-read when it changes")
    Path tlsKey;

    @Option(names = "--http2", defaultValue = "on",
            description = "HTTP/2: on (h2 by ALPN over TLS; h2c by prior knowledge or Upgrade in clear text) or off. Default: ${DEFAULT-VALUE}")
    String http2;

    @Option(names = "--max-streams-per-connection", defaultValue = "100",
            description = "Concurrent streams an HTTP/2 connection may open (SETTINGS_MAX_CONCURRENT_STREAMS). Default: ${DEFAULT-VALUE}")
    int maxStreamsPerConnection;

    @Option(names = "--engine", defaultValue = ServerConfig.EMBEDDED,
            description = "Where topics live: embedded (the log in --data-dir), or a Redis shared by several nodes: "
                    + "redis://host:port, redis-sentinel://h1:26379,h2:26379#master or a Redis Cluster "
                    + "redis-cluster://h1:p1,h2:p2 (docs/cluster.md). "
                    + "Default: ${DEFAULT-VALUE}")
    String engine;

    @Option(names = "--redis-wait-replicas", defaultValue = "0",
            description = "With --engine redis: acknowledge a change only once this many Redis replicas hold it (WAIT, one per round of changes; docs/cluster.md). Default: ${DEFAULT-VALUE}")
    int redisWaitReplicas;

    @Option(names = "--data-dir", defaultValue = "./data", description = "Directory of the durable log. Default: ${DEFAULT-VALUE}")
    Path dataDir;

    @Option(names = "--fsync", defaultValue = "batch", converter = FsyncConverter.class,
            description = "When an acked publish is fsynced: always (before the ack, group commit), batch (every --fsync-interval), never (left to the OS). Default: ${DEFAULT-VALUE}")
    FsyncPolicy fsync;

    @Option(names = "--fsync-interval", defaultValue = "100ms", converter = DurationConverter.class,
            description = "fsync period of --fsync batch. Default: ${DEFAULT-VALUE}")
    Duration fsyncInterval;

    @Option(names = "--io", defaultValue = "auto", converter = IoConverter.class,
            description = "Event-loop engine: auto, io_uring, epoll, nio. Default: ${DEFAULT-VALUE}")
    IoMode io;

    @Option(names = "--io-threads", defaultValue = "0", description = "Event-loop threads, 0 = one per core. Default: ${DEFAULT-VALUE}")
    int ioThreads;

    @Option(names = "--tcp-nodelay", arity = "1", defaultValue = "true",
            description = "Disable Nagle's algorithm on client sockets. Default: ${DEFAULT-VALUE}")
    boolean tcpNoDelay;

    @Option(names = "--so-sndbuf", defaultValue = "0", description = "SO_SNDBUF bytes, 0 = kernel default (autotuned). Default: ${DEFAULT-VALUE}")
    int sendBuffer;

    @Option(names = "--so-rcvbuf", defaultValue = "0", description = "SO_RCVBUF bytes, 0 = kernel default (autotuned). Default: ${DEFAULT-VALUE}")
    int receiveBuffer;

    @Option(names = "--backlog", defaultValue = "4096", description = "Listen backlog. Default: ${DEFAULT-VALUE}")
    int backlog;

    @Option(names = "--write-buffer-low", defaultValue = "32768",
            description = "Bytes queued in user space below which a connection is writable again. Default: ${DEFAULT-VALUE}")
    int writeLow;

    @Option(names = "--write-buffer-high", defaultValue = "65536",
            description = "Bytes queued in user space above which pushing to a connection pauses. Default: ${DEFAULT-VALUE}")
    int writeHigh;

    @Option(names = "--max-message-bytes", defaultValue = "1048576", description = "Largest message. Default: ${DEFAULT-VALUE}")
    int maxMessageBytes;

    @Option(names = "--max-batch-messages", defaultValue = "1000",
            description = "Most messages in one batch publish. Default: ${DEFAULT-VALUE}")
    int maxBatchMessages;

    @Option(names = "--max-header-bytes", defaultValue = "16384", description = "Largest request head. Default: ${DEFAULT-VALUE}")
    int maxHeaderBytes;

    @Option(names = "--max-poll-limit", defaultValue = "1000", description = "Largest limit= of a poll. Default: ${DEFAULT-VALUE}")
    int maxPollLimit;

    @Option(names = "--max-poll-bytes", defaultValue = "4194304",
            description = "A poll answer stops adding messages past this many payload bytes. Default: ${DEFAULT-VALUE}")
    int maxPollBytes;

    @Option(names = "--max-wait", defaultValue = "5m", converter = DurationConverter.class,
            description = "Longest wait= of a long poll. Default: ${DEFAULT-VALUE}")
    Duration maxWait;

    @Option(names = "--max-topics", defaultValue = "100000", description = "Topics that may exist at once. Default: ${DEFAULT-VALUE}")
    int maxTopics;

    @Option(names = "--max-subscriptions", defaultValue = "1000",
            description = "WebSocket subscriptions per connection. Default: ${DEFAULT-VALUE}")
    int maxSubscriptions;

    @Option(names = "--max-connections", defaultValue = "18000",
            description = "Open client connections (keep below the process's open-file limit). Default: ${DEFAULT-VALUE}")
    int maxConnections;

    @Option(names = "--max-connections-per-address", defaultValue = "0",
            description = "Open connections from one remote address, 0 = unlimited (429 beyond). Default: ${DEFAULT-VALUE}")
    int maxConnectionsPerAddress;

    @Option(names = "--max-publish-rate", defaultValue = "0",
            description = "Messages per second one connection may publish, 0 = unlimited (429 beyond). Default: ${DEFAULT-VALUE}")
    int maxPublishRate;

    @Option(names = "--max-publish-rate-per-subject", defaultValue = "0",
            description = "Messages per second one token subject may publish over all its connections, 0 = unlimited (429 beyond). Default: ${DEFAULT-VALUE}")
    int maxPublishRatePerSubject;

    @Option(names = "--max-pending-publishes", defaultValue = "65536",
            description = "Publishes waiting for the log writer before new ones get 503. Default: ${DEFAULT-VALUE}")
    int maxPendingPublishes;

    @Option(names = "--tail-cache-bytes", defaultValue = "268435456",
            description = "Payload bytes of recent messages kept in memory across all topics for live readers. Default: ${DEFAULT-VALUE}")
    long tailCacheBytes;

    @Option(names = "--header-timeout", defaultValue = "10s", converter = DurationConverter.class,
            description = "A request head must arrive within this. Default: ${DEFAULT-VALUE}")
    Duration headerTimeout;

    @Option(names = "--idle-timeout", defaultValue = "5m", converter = DurationConverter.class,
            description = "Idle keep-alive connections close after this. Default: ${DEFAULT-VALUE}")
    Duration idleTimeout;

    @Option(names = "--slow-consumer-timeout", defaultValue = "30s", converter = DurationConverter.class,
            description = "A push connection unwritable this long is closed (WebSocket code 4008). Default: ${DEFAULT-VALUE}")
    Duration slowConsumerTimeout;

    @Option(names = "--answer-timeout", defaultValue = "10s", converter = DurationConverter.class,
            description = "A request waiting on the log is answered 503 'timeout' after its own wait plus this. "
                    + "Default: ${DEFAULT-VALUE}")
    Duration answerTimeout;

    @Option(names = "--sse-heartbeat", defaultValue = "15s", converter = DurationConverter.class,
            description = "Interval of SSE heartbeat comments. Default: ${DEFAULT-VALUE}")
    Duration sseHeartbeat;

    @Option(names = "--ws-ping-interval", defaultValue = "30s", converter = DurationConverter.class,
            description = "Interval of WebSocket pings; a peer silent for two is closed. Default: ${DEFAULT-VALUE}")
    Duration wsPingInterval;

    @Option(names = "--ack-timeout", defaultValue = "30s", converter = DurationConverter.class,
            description = "Consumer groups: a fetched message not acknowledged within this is delivered again. Default: ${DEFAULT-VALUE}")
    Duration ackTimeout;

    @Option(names = "--max-deliveries", defaultValue = "5",
            description = "Consumer groups: deliveries of a message before it moves to {topic}.dead. Default: ${DEFAULT-VALUE}")
    int maxDeliveries;

    @Option(names = "--max-groups-per-topic", defaultValue = "64",
            description = "Consumer groups one topic may have. Default: ${DEFAULT-VALUE}")
    int maxGroupsPerTopic;

    @Option(names = "--max-in-flight-per-member", defaultValue = "1000",
            description = "Unacknowledged messages one group member may hold. Default: ${DEFAULT-VALUE}")
    int maxInFlightPerMember;

    @Option(names = "--retention-max-messages", description = "Default retention of new topics: messages kept (default unlimited)")
    Long retentionMaxMessages;

    @Option(names = "--retention-max-age", converter = DurationConverter.class,
            description = "Default retention of new topics: age kept, e.g. 7d (default unlimited)")
    Duration retentionMaxAge;

    @Option(names = "--retention-max-bytes", description = "Default retention of new topics: payload bytes kept (default unlimited)")
    Long retentionMaxBytes;

    @Option(names = "--idempotency-ttl", defaultValue = "24h", converter = DurationConverter.class,
            description = "How long an Idempotency-Key is remembered. Default: ${DEFAULT-VALUE}")
    Duration idempotencyTtl;

    @Option(names = "--cors-origins", defaultValue = "", split = ",",
            description = "Browser origins allowed to call the API from their pages, comma-separated; * = any. Default: none")
    List<String> corsOrigins;

    @Option(names = "--stage-sample", defaultValue = "" + ServerConfig.DEFAULT_STAGE_SAMPLE,
            description = "Time one event in N per connection for switchboard_stage_seconds; 0 = stage timing off, 1 = every event. Default: ${DEFAULT-VALUE}")
    int stageSample;

    @Option(names = "--allowed-hosts", defaultValue = "", split = ",",
            description = "Host names the server answers to (any port), comma-separated, against DNS rebinding. A loopback --bind always answers to localhost, 127.0.0.1 and [::1]; a non-loopback one with none set answers to any. Default: none")
    List<String> allowedHosts;

    @Option(names = "--auth", defaultValue = "none",
            description = "none (anyone may do anything; loopback only unless --insecure-no-auth) or jwt (every request but /healthz and /readyz needs a signed token, docs/auth.md). Default: ${DEFAULT-VALUE}")
    String auth;

    @Option(names = "--auth-hs256-secret-file", description = "HS256 secret: raw bytes, one trailing newline ignored, at least 32 bytes")
    Path hs256SecretFile;

    @Option(names = "--auth-public-key", description = "PEM public key (RSA: RS256, EC P-256: ES256); re-read when it changes")
    Path publicKeyFile;

    @Option(names = "--auth-jwks-file", description = "JSON Web Key Set (RS256/ES256 keys by kid); re-read when it changes")
    Path jwksFile;

    @Option(names = "--auth-issuer", description = "Tokens must carry this iss (default: any)")
    String issuer;

    @Option(names = "--auth-audience", description = "Tokens must carry this aud (default: any)")
    String audience;

    @Option(names = "--insecure-no-auth", description = "Allow --auth none on a non-loopback --bind: anyone who reaches the port may publish, read and delete")
    boolean insecureNoAuth;

    @Option(names = "--upstream",
            description = "Sidecar mode (docs/sidecar.md): requests outside /v1/, /healthz, /readyz, /metrics and /_switchboard/ (the dashboard's home then) go to this HTTP server, e.g. http://127.0.0.1:3000 (https:// for TLS)")
    String upstream;

    @Option(names = "--route", description = "Sidecar mode: requests under /prefix go to URL (/prefix=http[s]://host:port; repeatable; the longest prefix wins, before --upstream)")
    List<String> routes = new ArrayList<>();

    @Option(names = "--upstream-ca", paramLabel = "FILE",
            description = "PEM CA certificates that https upstreams' certificates must chain to, instead of the JDK's trust store")
    Path upstreamCa;

    @Option(names = "--upstream-timeout", defaultValue = "30s", converter = DurationConverter.class,
            description = "An upstream must begin its answer within this, else 504. Default: ${DEFAULT-VALUE}")
    Duration upstreamTimeout;

    @Option(names = "--upstream-retries", defaultValue = "2",
            description = "Further attempts of an idempotent request without a body whose connection failed before an answer. Default: ${DEFAULT-VALUE}")
    int upstreamRetries;

    @Option(names = "--upstream-retry-budget", defaultValue = "0.2",
            description = "Retries may add at most this fraction to a route's requests (plus 10 a second). Default: ${DEFAULT-VALUE}")
    double upstreamRetryBudget;

    @Option(names = "--upstream-max-concurrent", defaultValue = "10000",
            description = "Requests in flight per route; more get 503. Default: ${DEFAULT-VALUE}")
    int upstreamMaxConcurrent;

    @Option(names = "--upstream-connections", defaultValue = "8",
            description = "Kept-alive connections per route and event loop. Default: ${DEFAULT-VALUE}")
    int upstreamConnections;

    @Option(names = "--upstream-breaker-failure-rate", defaultValue = "50",
            description = "Percentage of a route's last 20 requests (at least 5) failing (refused, reset, timed out, 502-504) that opens its circuit breaker. Default: ${DEFAULT-VALUE}")
    int upstreamBreakerFailureRate;

    @Option(names = "--upstream-breaker-open", defaultValue = "5s", converter = DurationConverter.class,
            description = "How long an open breaker answers 503 before letting probe requests through. Default: ${DEFAULT-VALUE}")
    Duration upstreamBreakerOpen;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        // Netty samples 1 buffer in 128 with a stack trace to find leaks: 3 % of a publish's CPU in profiles. The
        // tests keep it on; a server turns it back on with -Dio.netty.leakDetection.level=simple.
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
        if (stageSample < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--stage-sample must be >= 0");
        }
        if (maxConnectionsPerAddress < 0 || maxPublishRate < 0 || maxPublishRatePerSubject < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--max-connections-per-address, --max-publish-rate and --max-publish-rate-per-subject must be >= 0");
        }
        if (writeLow <= 0 || writeHigh < writeLow) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--write-buffer-high must be >= --write-buffer-low > 0");
        }
        AuthConfig authConfig = authConfig();
        if (ackTimeout.isZero() || ackTimeout.isNegative() || maxDeliveries < 1 || maxGroupsPerTopic < 1
                || maxInFlightPerMember < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--ack-timeout, --max-deliveries, "
                    + "--max-groups-per-topic and --max-in-flight-per-member must be positive");
        }
        Protocols protocols = protocols();
        ServerConfig config = new ServerConfig(bind, port, dataDir, fsync, fsyncInterval, io, ioThreads,
                new SocketOptions(tcpNoDelay, sendBuffer, receiveBuffer, backlog, writeLow, writeHigh),
                new Limits(maxMessageBytes, maxBatchMessages, maxHeaderBytes, maxPollLimit, maxPollBytes, maxWait,
                        maxTopics, maxSubscriptions, maxConnections, maxPendingPublishes, 255, headerTimeout,
                        idleTimeout, slowConsumerTimeout, tailCacheBytes, answerTimeout, maxConnectionsPerAddress,
                        maxPublishRate, maxPublishRatePerSubject),
                sseHeartbeat, wsPingInterval, new Retention(retentionMaxMessages, retentionMaxAge, retentionMaxBytes),
                idempotencyTtl, nonBlank(corsOrigins), stageSample, authConfig, nonBlank(allowedHosts), engine,
                redisWaitReplicas, groupSettings(), natsPort == null ? ServerConfig.NATS_OFF : natsPort, protocols);
        if (natsPort != null && (natsPort < 0 || natsPort > 65535)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--nats-port must be 0-65535");
        }
        if (redisWaitReplicas < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--redis-wait-replicas must not be negative");
        }
        if (!config.embedded() && !engine.matches("(redis|rediss|redis-sentinel|redis-cluster|rediss-cluster)://.+")) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--engine must be embedded, redis://host:port, redis-sentinel://host:port,...#master or "
                            + "redis-cluster://host:port,...");
        }
        SwitchboardServer server = SwitchboardServer.start(config, sidecarConfig());
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "switchboard-shutdown"));
        spec.commandLine().getOut().printf("switchboard listening on %s://%s:%d%n", protocols.tls() ? "https" : "http",
                bind, server.port());
        spec.commandLine().getOut().flush();
        server.awaitClose();
        return 0;
    }

    private Protocols protocols() {
        if (!http2.equals("on") && !http2.equals("off")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--http2 must be on or off, got '" + http2 + "'");
        }
        try {
            return new Protocols(tlsCert, tlsKey, http2.equals("on"), maxStreamsPerConnection);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private SidecarConfig sidecarConfig() {
        try {
            List<UpstreamRoute> all = new ArrayList<>();
            for (String r : routes) {
                all.add(UpstreamRoute.parse(r));
            }
            if (upstream != null) {
                all.add(UpstreamRoute.of("/", upstream));
            }
            return new SidecarConfig(all, upstreamTimeout, upstreamRetries, upstreamRetryBudget,
                    upstreamMaxConcurrent, upstreamConnections, upstreamBreakerFailureRate, upstreamBreakerOpen,
                    upstreamCa);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private static List<String> nonBlank(List<String> values) {
        return values.stream().map(String::trim).filter(v -> !v.isEmpty()).toList();
    }

    private AuthConfig authConfig() throws UnknownHostException {
        switch (auth) {
            case "jwt" -> {
                return new AuthConfig(true, hs256SecretFile, publicKeyFile, jwksFile, issuer, audience);
            }
            case "none" -> {
                // Like Redis's protected mode: an open server reachable from other machines is a mistake unless said.
                if (!InetAddress.getByName(bind).isLoopbackAddress() && !insecureNoAuth) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "refusing to listen on " + bind
                            + " with --auth none: anyone who reaches it could publish, read and delete. Use --auth jwt,"
                            + " bind to 127.0.0.1, or pass --insecure-no-auth if a firewall or proxy guards the port");
                }
                return AuthConfig.NONE;
            }
            default -> throw new CommandLine.ParameterException(spec.commandLine(),
                    "--auth must be none or jwt, got '" + auth + "'");
        }
    }

    static final class FsyncConverter extends LowerEnum<FsyncPolicy> {
        FsyncConverter() {
            super(FsyncPolicy.class);
        }
    }

    static final class IoConverter extends LowerEnum<IoMode> {
        IoConverter() {
            super(IoMode.class);
        }
    }

    private GroupSettings groupSettings() {
        GroupSettings d = GroupSettings.DEFAULTS;
        return new GroupSettings(ackTimeout, maxDeliveries, maxGroupsPerTopic, maxInFlightPerMember, d.maxFetch(),
                d.maxAckOffsets(), d.maxPending());
    }
}
