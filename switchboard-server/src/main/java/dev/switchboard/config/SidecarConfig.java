package dev.switchboard.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;

/**
 * Sidecar mode (docs/sidecar.md): requests outside Switchboard's own paths go to upstream HTTP servers. Every
 * setting applies to each route on its own: each has its own pool, breaker, retry budget and concurrency limit.
 *
 * @param routes              where requests go, longest prefix first; empty: no sidecar
 * @param timeout             from a request's arrival to the upstream's response head; past it the client gets 504
 * @param retries             further attempts of an idempotent request without a body whose attempt failed before
 *                            any answer (connection refused or reset); 0 = none
 * @param retryBudget         retries may add at most this fraction to a route's requests (plus 10 a second)
 * @param maxConcurrent       requests in flight per route; more get 503
 * @param connectionsPerLoop  upstream connections per route and event loop
 * @param breakerFailureRate  percentage of failed requests (of the last 20, at least 5) that opens the breaker
 * @param breakerOpenFor      how long an open breaker refuses before letting probes through (half-open)
 * @param upstreamCa          PEM certificates that https upstreams' certificates must chain to; null: the JDK's
 *                            trust store
 */
public record SidecarConfig(List<UpstreamRoute> routes, Duration timeout, int retries, double retryBudget,
                            int maxConcurrent, int connectionsPerLoop, int breakerFailureRate,
                            Duration breakerOpenFor, Path upstreamCa) {
    public static final SidecarConfig NONE = new SidecarConfig(List.of(), Duration.ofSeconds(30), 2, 0.2, 10_000, 8,
            50, Duration.ofSeconds(5), null);

    public SidecarConfig {
        routes = routes.stream().sorted(Comparator.comparingInt((UpstreamRoute r) -> r.prefix().length()).reversed())
                .toList();
        if (retries < 0 || maxConcurrent < 1 || connectionsPerLoop < 1 || retryBudget < 0
                || breakerFailureRate < 1 || breakerFailureRate > 100) {
            throw new IllegalArgumentException("upstream retries >= 0, retry budget >= 0, max concurrent >= 1, "
                    + "connections >= 1, breaker failure rate 1-100");
        }
    }

    public boolean enabled() {
        return !routes.isEmpty();
    }

    public SidecarConfig withRoutes(List<UpstreamRoute> newRoutes) {
        return new SidecarConfig(newRoutes, timeout, retries, retryBudget, maxConcurrent, connectionsPerLoop,
                breakerFailureRate, breakerOpenFor, upstreamCa);
    }

    public SidecarConfig withTimeout(Duration newTimeout) {
        return new SidecarConfig(routes, newTimeout, retries, retryBudget, maxConcurrent, connectionsPerLoop,
                breakerFailureRate, breakerOpenFor, upstreamCa);
    }

    public SidecarConfig withBreakerOpenFor(Duration openFor) {
        return new SidecarConfig(routes, timeout, retries, retryBudget, maxConcurrent, connectionsPerLoop,
                breakerFailureRate, openFor, upstreamCa);
    }

    public SidecarConfig withConnectionsPerLoop(int connections) {
        return new SidecarConfig(routes, timeout, retries, retryBudget, maxConcurrent, connections,
                breakerFailureRate, breakerOpenFor, upstreamCa);
    }

    public SidecarConfig withUpstreamCa(Path caFile) {
        return new SidecarConfig(routes, timeout, retries, retryBudget, maxConcurrent, connectionsPerLoop,
                breakerFailureRate, breakerOpenFor, caFile);
    }

    /** The route of {@code path}, or null: Switchboard's own. */
    public UpstreamRoute routeOf(String path) {
        for (UpstreamRoute r : routes) {
            if (r.matches(path)) {
                return r;
            }
        }
        return null;
    }
}
