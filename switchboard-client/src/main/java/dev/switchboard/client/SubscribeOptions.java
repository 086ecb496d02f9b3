package dev.switchboard.client;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * How a {@link Subscription} reads: its {@link Transport}, how many messages it buffers ahead of the handler, how long
 * one long poll waits, and who hears about gaps. Immutable; build with {@link #builder()}.
 */
public final class SubscribeOptions {
    private static final SubscribeOptions DEFAULTS = builder().build();

    private final Transport transport;
    private final int bufferSize;
    private final Duration pollWait;
    private final Consumer<Gap> gapHandler;

    private SubscribeOptions(Builder b) {
        this.transport = b.transport;
        this.bufferSize = b.bufferSize;
        this.pollWait = b.pollWait;
        this.gapHandler = b.gapHandler;
    }

    /** WebSocket, 256 buffered messages, 30 s long polls, gaps reported only to the connection listener. */
    public static SubscribeOptions defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Transport transport() {
        return transport;
    }

    public int bufferSize() {
        return bufferSize;
    }

    public Duration pollWait() {
        return pollWait;
    }

    public Consumer<Gap> gapHandler() {
        return gapHandler;
    }

    /** Builds {@link SubscribeOptions}; each setter checks its argument at once. */
    public static final class Builder {
        private Transport transport = Transport.WEBSOCKET;
        private int bufferSize = 256;
        private Duration pollWait = Duration.ofSeconds(30);
        private Consumer<Gap> gapHandler = gap -> {};

        private Builder() {}

        public Builder transport(Transport transport) {
            this.transport = Objects.requireNonNull(transport, "transport");
            return this;
        }

        /** Messages read ahead of the handler, 1 to 100,000; when full the subscription stops reading. */
        public Builder bufferSize(int bufferSize) {
            if (bufferSize < 1 || bufferSize > 100_000) {
                throw new IllegalArgumentException("bufferSize must be 1 to 100000, got " + bufferSize);
            }
            this.bufferSize = bufferSize;
            return this;
        }

        /** How long one long poll waits ({@link Transport#LONG_POLL}): 1 ms to 5 minutes, the server's maximum. */
        public Builder pollWait(Duration pollWait) {
            Objects.requireNonNull(pollWait, "pollWait");
            if (pollWait.toMillis() < 1 || pollWait.compareTo(Duration.ofMinutes(5)) > 0) {
                throw new IllegalArgumentException("pollWait must be 1ms to 5m, got " + pollWait);
            }
            this.pollWait = pollWait;
            return this;
        }

        /** Called on the delivery thread, in order with the messages, when retention dropped some before they were read. */
        public Builder onGap(Consumer<Gap> gapHandler) {
            this.gapHandler = Objects.requireNonNull(gapHandler, "gapHandler");
            return this;
        }

        public SubscribeOptions build() {
            return new SubscribeOptions(this);
        }
    }
}
