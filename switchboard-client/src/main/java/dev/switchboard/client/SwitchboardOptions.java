package dev.switchboard.client;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * How a {@link Switchboard} client connects: the server URLs it fails over between, timeouts, reconnect delays, a
 * {@link ConnectionListener} and a bearer-token supplier. Immutable; build with {@link #builder()}.
 */
public final class SwitchboardOptions {
    private final List<URI> servers;
    private final Duration connectTimeout;
    private final Duration requestTimeout;
    private final Duration retryFor;
    private final Duration reconnectMin;
    private final Duration reconnectMax;
    private final ConnectionListener listener;
    private final Supplier<String> token;

    private SwitchboardOptions(Builder b) {
        this.servers = List.copyOf(b.servers);
        this.connectTimeout = b.connectTimeout;
        this.requestTimeout = b.requestTimeout;
        this.retryFor = b.retryFor;
        this.reconnectMin = b.reconnectMin;
        this.reconnectMax = b.reconnectMax;
        this.listener = b.listener;
        this.token = b.token;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The server URLs, in the order they are tried. */
    public List<URI> servers() {
        return servers;
    }

    public Duration connectTimeout() {
        return connectTimeout;
    }

    public Duration requestTimeout() {
        return requestTimeout;
    }

    public Duration retryFor() {
        return retryFor;
    }

    public Duration reconnectMin() {
        return reconnectMin;
    }

    public Duration reconnectMax() {
        return reconnectMax;
    }

    public ConnectionListener listener() {
        return listener;
    }

    /** Supplies the bearer token of each request; null sends none. */
    public Supplier<String> token() {
        return token;
    }

    /** Builds {@link SwitchboardOptions}; each setter checks its argument at once. */
    public static final class Builder {
        private final List<URI> servers = new ArrayList<>();
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration requestTimeout = Duration.ofSeconds(30);
        private Duration retryFor = Duration.ofSeconds(30);
        private Duration reconnectMin = Duration.ofMillis(100);
        private Duration reconnectMax = Duration.ofSeconds(5);
        private ConnectionListener listener = new ConnectionListener() {};
        private Supplier<String> token;

        private Builder() {}

        /**
         * Adds a server URL ({@code http} or {@code https}, with a host, optionally a path prefix). Several URLs are
         * nodes of one server (one Redis engine behind them): requests and subscriptions fail over between them.
         */
        public Builder server(String url) {
            Objects.requireNonNull(url, "url");
            URI uri;
            try {
                uri = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("not a URL: '" + url + "'", e);
            }
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
                throw new IllegalArgumentException("a server URL must be http:// or https:// with a host, got '" + url + "'");
            }
            if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
                throw new IllegalArgumentException("a server URL has no query or fragment, got '" + url + "'");
            }
            servers.add(uri);
            return this;
        }

        public Builder servers(List<String> urls) {
            urls.forEach(this::server);
            return this;
        }

        /** Time to open a connection, before failing over to the next URL: 1 ms to 5 min. Default 5 s. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /**
         * Time for an answer to a request that does not wait on purpose (a long poll, a held claim and
         * {@code await} add their own wait to it): 1 ms to 5 min. Default 30 s.
         */
        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = positive(timeout, "requestTimeout");
            return this;
        }

        /**
         * How long a request that is safe to repeat (a read; a publish or submit with an idempotency key) is retried
         * after lost connections and {@code 503}s, 0 to 1 h; 0 tries each URL once. Default 30 s. Subscriptions and
         * workers are not bounded by it: they reconnect until closed.
         */
        public Builder retryFor(Duration retryFor) {
            Objects.requireNonNull(retryFor, "retryFor");
            if (retryFor.isNegative() || retryFor.compareTo(Duration.ofHours(1)) > 0) {
                throw new IllegalArgumentException("retryFor must be 0 to 1h, got " + retryFor);
            }
            this.retryFor = retryFor;
            return this;
        }

        /**
         * Delays between reconnects and retries: the first is about {@code min}, each next one doubles up to
         * {@code max}, each with random jitter (half to all of it) so that clients do not come back in step.
         * Defaults 100 ms and 5 s.
         */
        public Builder reconnectDelay(Duration min, Duration max) {
            positive(min, "min");
            positive(max, "max");
            if (max.compareTo(min) < 0) {
                throw new IllegalArgumentException("reconnect max " + max + " is below min " + min);
            }
            this.reconnectMin = min;
            this.reconnectMax = max;
            return this;
        }

        public Builder listener(ConnectionListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * Supplies a token sent as {@code Authorization: Bearer <token>} with every request and WebSocket handshake;
         * asked each time, so it may rotate. A null token sends no header.
         */
        public Builder token(Supplier<String> token) {
            this.token = Objects.requireNonNull(token, "token");
            return this;
        }

        public SwitchboardOptions build() {
            if (servers.isEmpty()) {
                throw new IllegalArgumentException("at least one server URL is needed");
            }
            return new SwitchboardOptions(this);
        }

        private static Duration positive(Duration d, String what) {
            Objects.requireNonNull(d, what);
            if (d.toMillis() < 1 || d.compareTo(Duration.ofMinutes(5)) > 0) {
                throw new IllegalArgumentException(what + " must be 1ms to 5m, got " + d);
            }
            return d;
        }
    }
}
