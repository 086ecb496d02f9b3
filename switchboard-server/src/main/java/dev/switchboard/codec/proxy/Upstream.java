package dev.switchboard.codec.proxy;

import dev.switchboard.config.SidecarConfig;
import dev.switchboard.config.UpstreamRoute;
import dev.switchboard.xray.ConnectionRegistry;
import dev.switchboard.xray.ConnectionStats;
import dev.switchboard.xray.Transport;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.pool.AbstractChannelPoolHandler;
import io.netty.channel.pool.ChannelHealthChecker;
import io.netty.channel.pool.ChannelPool;
import io.netty.channel.pool.FixedChannelPool;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.ssl.SslContext;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One route's upstream: its kept-alive connections, circuit breaker, retry budget, concurrency limit and metrics.
 *
 * <p>Connections: a Netty {@link FixedChannelPool} per event loop, bound to that loop, so that a client connection
 * and the upstream connection serving it share a thread (no hand-off per chunk, and writability flags read without
 * races). The pool already does what a pool of our own would have to: a bounded number of connections, a bounded
 * queue of waiting acquires with a timeout, a health check on acquire (a connection that cannot be reused is closed
 * before its release, so a check on release too would only cost), most recently used first (so idle connections age
 * out at the upstream rather than all staying warm). Many client connections share the few upstream
 * ones; a request holds one only while it is in flight.
 */
final class Upstream {
    private final UpstreamRoute route;
    private final SidecarConfig config;
    private final Class<? extends SocketChannel> channelClass;
    private final ConnectionRegistry registry;
    private final Map<EventLoop, ChannelPool> pools = new ConcurrentHashMap<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final MeterRegistry metrics;
    /** Null for a plain HTTP upstream. */
    private final SslContext tls;
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    final CircuitBreaker breaker;
    final RetryBudget retryBudget;
    final Counter retries;

    Upstream(UpstreamRoute route, SidecarConfig config, Class<? extends SocketChannel> channelClass,
             ConnectionRegistry registry, MeterRegistry metrics, SslContext tls) {
        this.route = route;
        this.tls = tls;
        this.config = config;
        this.channelClass = channelClass;
        this.registry = registry;
        this.metrics = metrics;
        this.retryBudget = new RetryBudget(config.retryBudget());
        this.breaker = CircuitBreaker.of("upstream " + route.name(), CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(20)
                .minimumNumberOfCalls(5)
                .failureRateThreshold(config.breakerFailureRate())
                .waitDurationInOpenState(config.breakerOpenFor())
                .permittedNumberOfCallsInHalfOpenState(2)
                .build());
        String name = route.name();
        this.retries = Counter.builder("switchboard.upstream.retries").tag("route", name)
                .description("Attempts of proxied requests after the first").register(metrics);
        Gauge.builder("switchboard.upstream.in.flight", inFlight, AtomicInteger::get).tag("route", name)
                .description("Proxied requests in flight").register(metrics);
        Gauge.builder("switchboard.upstream.breaker.state", breaker, b -> switch (b.getState()) {
            case CLOSED -> 0;
            case OPEN, FORCED_OPEN -> 1;
            case HALF_OPEN -> 2;
            default -> 3;
        }).tag("route", name).description("The route's circuit breaker: 0 closed, 1 open, 2 half-open")
                .register(metrics);
    }

    UpstreamRoute route() {
        return route;
    }

    SidecarConfig config() {
        return config;
    }

    /** Why a request may not go to this upstream now, answered with {@code 503}. */
    record Refusal(String code, String message) {
    }

    /**
     * Admits a request: takes a slot of {@link SidecarConfig#maxConcurrent()} and the breaker's permission, or says
     * why not (holding neither). An admitted request gives both back: {@link #leave}, and its outcome to the breaker
     * (or {@code releasePermission}).
     */
    Refusal admit() {
        if (inFlight.incrementAndGet() > config.maxConcurrent()) {
            inFlight.decrementAndGet();
            return new Refusal("unavailable", "route " + route.name() + " has " + config.maxConcurrent()
                    + " requests in flight, its limit; retry later");
        }
        if (!breaker.tryAcquirePermission()) {
            leave();
            return new Refusal("circuit_open", "the upstream of route " + route.name()
                    + " is failing; requests are refused for a while (circuit breaker open)");
        }
        return null;
    }

    void leave() {
        inFlight.decrementAndGet();
    }

    /** Counts a finished request under its outcome ({@code 2xx}…{@code 5xx}, or what went wrong). */
    void record(String outcome, long nanos) {
        Timer timer = timers.get(outcome); // once registered, a lookup without the capturing lambda
        if (timer == null) {
            timer = timers.computeIfAbsent(outcome, o -> Timer.builder("switchboard.upstream.requests")
                    .tag("route", route.name()).tag("outcome", o)
                    .description("Proxied requests by outcome, until the response's end").register(metrics));
        }
        timer.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** The pool of {@code loop}'s connections to this upstream. */
    ChannelPool pool(EventLoop loop) {
        return pools.computeIfAbsent(loop, this::newPool);
    }

    private Bootstrap bootstrap(EventLoop loop) {
        return new Bootstrap().group(loop).channel(channelClass)
                .remoteAddress(route.host(), route.port())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                        config.timeout().toMillis()));
    }

    /** The handlers of a new upstream connection: x-ray counters, TLS for https, the HTTP codec, then {@code last}. */
    private void initConnection(Channel ch, ChannelHandler last) {
        ConnectionStats stats = registry.newConnection();
        ch.pipeline().addLast("xray", stats);
        if (tls != null) {
            ch.pipeline().addLast("tls", tls.newHandler(ch.alloc(), route.host(), route.port()));
        }
        ch.pipeline().addLast("http", new HttpClientCodec()).addLast("link", last);
        stats.use(Transport.UPSTREAM);
    }

    /**
     * A connection of its own, outside the pool, on {@code loop}: a WebSocket passthrough keeps its connection for
     * as long as the socket lives, which would take a pooled one from every other request.
     */
    ChannelFuture connect(EventLoop loop, ChannelHandler last) {
        return bootstrap(loop).handler(new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                initConnection(ch, last);
            }
        }).connect();
    }

    private ChannelPool newPool(EventLoop loop) {
        return new FixedChannelPool(bootstrap(loop), new AbstractChannelPoolHandler() {
            @Override
            public void channelCreated(Channel ch) {
                initConnection(ch, new UpstreamLink());
            }

            @Override
            public void channelReleased(Channel ch) {
                ch.pipeline().get(UpstreamLink.class).detach();
            }
        }, ChannelHealthChecker.ACTIVE, FixedChannelPool.AcquireTimeoutAction.FAIL, config.timeout().toMillis(),
                config.connectionsPerLoop(), config.maxConcurrent(), false, true);
    }

    void close() {
        pools.values().forEach(ChannelPool::close);
    }
}
