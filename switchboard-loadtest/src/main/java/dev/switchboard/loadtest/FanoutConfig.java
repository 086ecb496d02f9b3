package dev.switchboard.loadtest;

import dev.switchboard.wire.TopicNames;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Settings of one {@code bench fanout} run.
 *
 * @param target      what is measured: Switchboard, or a peer spoken to in its own protocol
 * @param server      base URL of the running server ({@code http://}), or {@code redis://} / {@code nats://}
 * @param transport   how subscribers receive from Switchboard; peers use their own protocol
 * @param subscribers subscriber connections, all on one topic
 * @param size        payload bytes per message
 * @param rate        target publishes per second over all publishers; 0 = as fast as the server answers
 * @param warmup      time published and checked but left out of the figures
 * @param duration    measured time after the warmup
 * @param drain       how long to wait, after publishing stops, for subscribers to receive everything
 * @param topic       topic to use; it must see no other publisher during the run
 * @param publishers  publisher connections (HTTP/1.1 keep-alive, or the peer's protocol)
 * @param inflight    pipelined requests per publisher connection (publishes not yet confirmed, for peers)
 * @param io          event-loop engine
 * @param threads     event-loop threads for the subscribers
 * @param subscribeTo nodes of one cluster (docs/cluster.md) the subscribers are spread over, round robin, while the
 *                    publishers use {@code server}; empty: all on {@code server}. For Pushpin: its HTTP port
 * @param eventsPath  where SSE subscribers subscribe, {@code {topic}} standing for the topic (a path an upstream
 *                    answers with a hold, docs/sidecar.md); null: Switchboard's own {@code /v1/topics/…/events}
 * @param batch       messages per publish request to Switchboard: 1 = single publishes, more = batch publishes of up to
 *                    that many (at most {@code inflight}). Pushpin's publisher always sends its whole window as the
 *                    items of one request, so for Pushpin it is 1 or {@code inflight}, both meaning that
 */
public record FanoutConfig(Target target, URI server, Transport transport, int subscribers, int size, int rate,
                           Duration warmup, Duration duration, Duration drain, String topic, int publishers,
                           int inflight, ClientIo.Mode io, int threads, List<URI> subscribeTo,
                           String eventsPath, int batch) {

    /** SSE_PATTERN: SSE over {@code GET /v1/events?topic=<pattern>}, a pattern matching the topic ({@code --pattern}). */
    public enum Transport { WS, SSE, SSE_PATTERN }

    /** What the benchmark drives; the URL scheme of {@code --server} must match. */
    public enum Target {
        SWITCHBOARD("http", "http://127.0.0.1:8080"),
        REDIS("redis", "redis://127.0.0.1:6379"),
        NATS("nats", "nats://127.0.0.1:4222"),
        /** Pushpin (GRIP): publishes to its HTTP publish port, SSE subscribers on its proxy port (--subscribe-to). */
        PUSHPIN("http", "http://127.0.0.1:5561");

        private final String scheme;
        private final URI defaultServer;

        Target(String scheme, String defaultServer) {
            this.scheme = scheme;
            this.defaultServer = URI.create(defaultServer);
        }

        public String scheme() {
            return scheme;
        }

        /** The server URL used when none is given. */
        public URI defaultServer() {
            return defaultServer;
        }
    }

    public FanoutConfig {
        checkServer(target, server);
        positive("subscribers", subscribers);
        positive("publishers", publishers);
        positive("inflight", inflight);
        positive("threads", threads);
        checkSize(target, size);
        checkBatch(target, batch, inflight, size);
        if (rate < 0) {
            throw new IllegalArgumentException("--rate must not be negative");
        }
        if (duration.isZero() || duration.isNegative() || warmup.isNegative() || drain.isNegative()) {
            throw new IllegalArgumentException("--duration must be positive, --warmup and --drain not negative");
        }
        subscribeTo = List.copyOf(subscribeTo);
        for (URI node : subscribeTo) {
            if (target != Target.SWITCHBOARD && target != Target.PUSHPIN) {
                throw new IllegalArgumentException("--subscribe-to is for Switchboard nodes and Pushpin only");
            }
            checkServer(target, node);
        }
        if (eventsPath != null && (!eventsPath.startsWith("/") || !eventsPath.contains("{topic}"))) {
            throw new IllegalArgumentException("--events-path is a path with {topic} in it, got '" + eventsPath + "'");
        }
        if (target == Target.PUSHPIN && (eventsPath == null || subscribeTo.isEmpty())) {
            throw new IllegalArgumentException("--target pushpin needs --subscribe-to (its HTTP port) and "
                    + "--events-path (what its backend holds)");
        }
        if (eventsPath != null && transport != Transport.SSE && target == Target.SWITCHBOARD) {
            throw new IllegalArgumentException("--events-path is for --transport sse");
        }
        if (!TopicNames.isValid(topic)) {
            throw new IllegalArgumentException("--topic must be 1-255 chars of [A-Za-z0-9_-] segments joined by '.'");
        }
    }

    /** A topic name no earlier run has used, so every run starts at offset 1 on an empty topic. */
    public static String freshTopic() {
        return "bench." + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
    }

    /** Refuses a {@code --server} whose scheme is not the target's, or without a host. */
    static void checkServer(Target target, URI server) {
        if (!target.scheme().equalsIgnoreCase(server.getScheme()) || server.getHost() == null) {
            throw new IllegalArgumentException("--server must be a " + target.scheme() + ":// URL with a host for --target "
                    + target.name().toLowerCase(java.util.Locale.ROOT) + ", got " + server);
        }
    }

    /** Refuses a {@code --size} too small for what the target's payloads carry. */
    static void checkSize(Target target, int size) {
        if (size < Payload.MIN_SIZE) {
            throw new IllegalArgumentException("--size must be at least " + Payload.MIN_SIZE
                    + " bytes (the send time and a space)");
        }
        if (target != Target.SWITCHBOARD && size < Payload.MIN_SEQUENCED_SIZE) {
            throw new IllegalArgumentException("--size must be at least " + Payload.MIN_SEQUENCED_SIZE
                    + " bytes for a peer (the send time, the publisher and its sequence number)");
        }
    }

    /** Refuses a {@code --batch} the target's publisher cannot send as asked. */
    static void checkBatch(Target target, int batch, int inflight, int size) {
        positive("batch", batch);
        if (batch > inflight) {
            throw new IllegalArgumentException("--batch must not exceed --inflight (the messages unconfirmed)");
        }
        if (target == Target.PUSHPIN && batch != 1 && batch != inflight) {
            throw new IllegalArgumentException("--batch for Pushpin is 1 or --inflight: its publisher always sends "
                    + "its --inflight messages as one request");
        }
        if ((target == Target.REDIS || target == Target.NATS) && batch != 1) {
            throw new IllegalArgumentException("--batch is for --target switchboard and pushpin");
        }
        if (target == Target.SWITCHBOARD && batch > 1 && size < Payload.MIN_SIZE + 2) {
            throw new IllegalArgumentException("--size must be at least " + (Payload.MIN_SIZE + 2)
                    + " bytes with --batch (the payload is a JSON string: its quotes too)");
        }
    }

    static void positive(String option, int value) {
        if (value < 1) {
            throw new IllegalArgumentException("--" + option + " must be at least 1");
        }
    }
}
