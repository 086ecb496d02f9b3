package dev.switchboard.engine.redis;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.net.SocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the Redis engine knows of its Redis: whether the connection is up, the latest PING's round trip or failure,
 * and how often it reconnected, for {@code /readyz}, {@code /healthz} and the metrics. Its periodic PING also drops
 * messages past their age retention.
 */
final class RedisHealth {
    private static final Logger log = LoggerFactory.getLogger(RedisHealth.class);
    static final long PING_MILLIS = 1000;

    private final RedisBroker engine;
    private final StatefulConnection<String, byte[]> connection;
    /** The Redis as logs and {@code /readyz} name it, without credentials. */
    private final String where;
    private final AtomicLong lastRttNanos = new AtomicLong(-1);
    /** Why the latest PING failed, or null after one answered. */
    private volatile String pingFailure;
    private final Counter reconnects;
    private final Timer pings;

    RedisHealth(RedisBroker engine, AbstractRedisClient client, StatefulConnection<String, byte[]> connection,
                String where, MeterRegistry metrics) {
        this.engine = engine;
        this.connection = connection;
        this.where = where;
        this.reconnects = Counter.builder("switchboard.redis.reconnects")
                .description("Connections to Redis made again after one was lost").register(metrics);
        this.pings = Timer.builder("switchboard.redis.ping").description("Round trips of PING to Redis")
                .register(metrics);
        Gauge.builder("switchboard.redis.rtt.seconds", lastRttNanos, n -> n.get() < 0 ? Double.NaN : n.get() / 1e9)
                .description("The latest PING round trip to Redis").register(metrics);
        client.addListener(new RedisConnectionStateListener() {
            @Override
            public void onRedisConnected(RedisChannelHandler<?, ?> handler, SocketAddress address) {
                // On a cluster, each node's connection is its own handler: any of them counts.
                if (handler == connection || engine.cluster && !(handler instanceof StatefulRedisPubSubConnection)) {
                    reconnects.increment();
                }
            }
        });
    }

    /** On the timer, every {@link #PING_MILLIS}. */
    void pingAndAge() {
        try {
            long start = System.nanoTime();
            engine.redis.ping().get(RedisBroker.COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            long rtt = System.nanoTime() - start;
            lastRttNanos.set(rtt);
            pingFailure = null;
            pings.record(rtt, TimeUnit.NANOSECONDS);
            // Any node may drop old messages: the script decides by Redis's clock, and a second run changes nothing.
            RedisKeys keys = engine.keys;
            for (byte[] topic : engine.redis.zrange(keys.aged(), 0, -1).get(RedisBroker.COMMAND_TIMEOUT.toMillis(),
                    TimeUnit.MILLISECONDS)) {
                engine.scripts.age.<Long>run(engine.redis, keys.meta(RedisBroker.text(topic)),
                        RedisKeys.args(keys.prefix(), RedisBroker.text(topic)).toArray(byte[][]::new));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            lastRttNanos.set(-1);
            pingFailure = RedisBroker.unavailable(e).getMessage();
            log.debug("Redis health check failed", e);
        }
    }

    /** Why Redis cannot serve now, if it cannot; the engine itself being closed is the engine's to say. */
    Optional<String> unhealthy() {
        if (!connection.isOpen()) {
            return Optional.of("Redis at " + where + " is unreachable; reconnecting");
        }
        String failure = pingFailure;
        return failure == null ? Optional.empty() : Optional.of("Redis at " + where + " does not answer: " + failure);
    }

    Map<String, Object> health(int commandsInFlight) {
        Map<String, Object> redisHealth = new LinkedHashMap<>();
        long rtt = lastRttNanos.get();
        if (rtt >= 0) {
            redisHealth.put("rttMillis", rtt / 1e6);
        }
        redisHealth.put("reconnects", (long) reconnects.count());
        redisHealth.put("commandsInFlight", commandsInFlight);
        return Map.of("engine", "redis", "redis", redisHealth);
    }
}
