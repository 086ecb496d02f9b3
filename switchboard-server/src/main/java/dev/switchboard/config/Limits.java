package dev.switchboard.config;

import java.time.Duration;

/**
 * Every size, count and wait the server accepts has a limit here; breaking one gets a clear error (docs/api.md shapes).
 *
 * @param maxMessageBytes         largest publish body (413 beyond)
 * @param maxBatchMessages        most messages in one batch publish (413 beyond)
 * @param maxHeaderBytes          largest request head (431 beyond)
 * @param maxPollLimit            largest {@code limit=} of a poll
 * @param maxPollResponseBytes    a poll answer stops adding messages past this many payload bytes (at least one is always sent)
 * @param maxWait                 longest {@code wait=} of a long poll
 * @param maxTopics               topics that may exist at once (429 beyond)
 * @param maxSubscriptionsPerConnection WebSocket subscriptions per connection (429 beyond)
 * @param maxConnections          open client connections (503 beyond, see ConnectionLimiter)
 * @param maxPendingPublishes     publishes waiting for the log writer (503 beyond)
 * @param maxIdempotencyKeyLength longest {@code Idempotency-Key}
 * @param headerTimeout           a request head must arrive within this (stops slow-header attacks)
 * @param idleTimeout             a keep-alive HTTP connection with no request in flight is closed after this
 * @param slowConsumerTimeout     a push subscriber whose socket stays unwritable this long is closed (WS code 4008)
 * @param tailCacheBytes          payload bytes of recent messages kept in memory across all topics; past it, the
 *                                topic being written keeps only its newest message (readers then go to the store)
 * @param answerTimeout           a request waiting on the log or a job is answered 503 {@code timeout} after its own
 *                                {@code wait} plus this, whatever happens below (streams are exempt)
 * @param maxConnectionsPerAddress open connections from one remote address (0 = unlimited; 429 beyond)
 * @param maxPublishRatePerConnection messages per second one connection may publish (0 = unlimited; 429 beyond)
 * @param maxPublishRatePerSubject messages per second one token subject may publish over all its connections
 *                                (0 = unlimited; 429 beyond)
 */
public record Limits(int maxMessageBytes, int maxBatchMessages, int maxHeaderBytes, int maxPollLimit,
                     int maxPollResponseBytes, Duration maxWait, int maxTopics, int maxSubscriptionsPerConnection,
                     int maxConnections, int maxPendingPublishes, int maxIdempotencyKeyLength, Duration headerTimeout,
                     Duration idleTimeout, Duration slowConsumerTimeout, long tailCacheBytes, Duration answerTimeout,
                     int maxConnectionsPerAddress, int maxPublishRatePerConnection, int maxPublishRatePerSubject) {
    public static Limits defaults() {
        return new Limits(1024 * 1024, 1000, 16 * 1024, 1000, 4 * 1024 * 1024, Duration.ofMinutes(5), 100_000,
                1000, 18_000, 65_536, 255, Duration.ofSeconds(10), Duration.ofMinutes(5), Duration.ofSeconds(30),
                256L * 1024 * 1024, Duration.ofSeconds(10), 0, 0, 0);
    }

    public Limits withMaxMessageBytes(int bytes) {
        return new Limits(bytes, maxBatchMessages, maxHeaderBytes, maxPollLimit, maxPollResponseBytes, maxWait,
                maxTopics, maxSubscriptionsPerConnection, maxConnections, maxPendingPublishes,
                maxIdempotencyKeyLength, headerTimeout, idleTimeout, slowConsumerTimeout, tailCacheBytes,
                answerTimeout, maxConnectionsPerAddress, maxPublishRatePerConnection, maxPublishRatePerSubject);
    }

    public Limits withMaxBatchMessages(int messages) {
        return new Limits(maxMessageBytes, messages, maxHeaderBytes, maxPollLimit, maxPollResponseBytes, maxWait,
                maxTopics, maxSubscriptionsPerConnection, maxConnections, maxPendingPublishes,
                maxIdempotencyKeyLength, headerTimeout, idleTimeout, slowConsumerTimeout, tailCacheBytes,
                answerTimeout, maxConnectionsPerAddress, maxPublishRatePerConnection, maxPublishRatePerSubject);
    }

    public Limits withMaxTopics(int topics) {
        return new Limits(maxMessageBytes, maxBatchMessages, maxHeaderBytes, maxPollLimit, maxPollResponseBytes,
                maxWait, topics, maxSubscriptionsPerConnection, maxConnections, maxPendingPublishes,
                maxIdempotencyKeyLength, headerTimeout, idleTimeout, slowConsumerTimeout, tailCacheBytes,
                answerTimeout, maxConnectionsPerAddress, maxPublishRatePerConnection, maxPublishRatePerSubject);
    }

    public Limits withMaxPendingPublishes(int pending) {
        return new Limits(maxMessageBytes, maxBatchMessages, maxHeaderBytes, maxPollLimit, maxPollResponseBytes,
                maxWait, maxTopics, maxSubscriptionsPerConnection, maxConnections, pending, maxIdempotencyKeyLength,
                headerTimeout, idleTimeout, slowConsumerTimeout, tailCacheBytes, answerTimeout,
                maxConnectionsPerAddress, maxPublishRatePerConnection, maxPublishRatePerSubject);
    }

    public Limits withTailCacheBytes(long bytes) {
        return new Limits(maxMessageBytes, maxBatchMessages, maxHeaderBytes, maxPollLimit, maxPollResponseBytes,
                maxWait, maxTopics, maxSubscriptionsPerConnection, maxConnections, maxPendingPublishes,
                maxIdempotencyKeyLength, headerTimeout, idleTimeout, slowConsumerTimeout, bytes, answerTimeout,
                maxConnectionsPerAddress, maxPublishRatePerConnection, maxPublishRatePerSubject);
    }

    public Limits withSlowConsumerTimeout(Duration timeout) {
        return new Limits(maxMessageBytes, maxBatchMessages, maxHeaderBytes, maxPollLimit, maxPollResponseBytes,
                maxWait, maxTopics, maxSubscriptionsPerConnection, maxConnections, maxPendingPublishes,
                maxIdempotencyKeyLength, headerTimeout, idleTimeout, timeout, tailCacheBytes, answerTimeout,
                maxConnectionsPerAddress, maxPublishRatePerConnection, maxPublishRatePerSubject);
    }

    public Limits withAnswerTimeout(Duration timeout) {
        return new Limits(maxMessageBytes, maxBatchMessages, maxHeaderBytes, maxPollLimit, maxPollResponseBytes,
                maxWait, maxTopics, maxSubscriptionsPerConnection, maxConnections, maxPendingPublishes,
                maxIdempotencyKeyLength, headerTimeout, idleTimeout, slowConsumerTimeout, tailCacheBytes, timeout,
                maxConnectionsPerAddress, maxPublishRatePerConnection, maxPublishRatePerSubject);
    }

    public Limits withRequestTimeouts(Duration header, Duration idle) {
        return new Limits(maxMessageBytes, maxBatchMessages, maxHeaderBytes, maxPollLimit, maxPollResponseBytes,
                maxWait, maxTopics, maxSubscriptionsPerConnection, maxConnections, maxPendingPublishes,
                maxIdempotencyKeyLength, header, idle, slowConsumerTimeout, tailCacheBytes, answerTimeout,
                maxConnectionsPerAddress, maxPublishRatePerConnection, maxPublishRatePerSubject);
    }

    public Limits withConnectionLimits(int connections, int perAddress) {
        return new Limits(maxMessageBytes, maxBatchMessages, maxHeaderBytes, maxPollLimit, maxPollResponseBytes,
                maxWait, maxTopics, maxSubscriptionsPerConnection, connections, maxPendingPublishes,
                maxIdempotencyKeyLength, headerTimeout, idleTimeout, slowConsumerTimeout, tailCacheBytes,
                answerTimeout, perAddress, maxPublishRatePerConnection, maxPublishRatePerSubject);
    }

    public Limits withPublishRates(int perConnection, int perSubject) {
        return new Limits(maxMessageBytes, maxBatchMessages, maxHeaderBytes, maxPollLimit, maxPollResponseBytes,
                maxWait, maxTopics, maxSubscriptionsPerConnection, maxConnections, maxPendingPublishes,
                maxIdempotencyKeyLength, headerTimeout, idleTimeout, slowConsumerTimeout, tailCacheBytes,
                answerTimeout, maxConnectionsPerAddress, perConnection, perSubject);
    }
}
