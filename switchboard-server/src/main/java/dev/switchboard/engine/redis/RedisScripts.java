package dev.switchboard.engine.redis;

import dev.switchboard.wire.ApiException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.codec.Base16;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The engine's Lua scripts (resources next to this class): each runs atomically in Redis, which is what makes an
 * offset, an idempotency key and a transaction safe with any number of nodes. Loaded when the engine opens and run
 * by digest. A Redis that lost its script cache (restarted) answers NOSCRIPT, having run nothing: that call is
 * refused with {@code unavailable} and the scripts are loaded again. Sending the text again instead would run the
 * call after commands issued later on the connection, breaking their order (and a {@code WAIT} sent meanwhile).
 *
 * <p>Each script names its slot's key first ({@code KEYS[1]}), which is where Redis Cluster sends it, and touches
 * keys of that slot only. What it changes in the sets that span all topics (the registry, the topics with a maximum
 * age) it returns beside its reply as effects, which are applied here, in the order the scripts answer, before the
 * caller hears the answer.
 */
final class RedisScripts {
    private final List<Script> all = new ArrayList<>();
    final Script append = load("append.lua");
    final Script retention = load("retention.lua");
    final Script age = load("age.lua");
    final Script delete = load("delete.lua");
    final Script transaction = load("transaction.lua");
    final Script jobs = load("jobs.lua");
    final Script groups = load("groups.lua");
    private final AtomicBoolean reloading = new AtomicBoolean();

    /** One script: its text (common part first) and its SHA-1, as Redis names it. */
    record Script(String name, String text, String digest, RedisScripts scripts) {
        /** Runs it in the slot of {@code slotKey}; the future holds the script's reply, its effects applied. */
        @SuppressWarnings("unchecked")
        <T> CompletableFuture<T> run(RedisClusterAsyncCommands<String, byte[]> redis, String slotKey,
                                     byte[]... args) {
            RedisFuture<List<Object>> bySha = redis.evalsha(digest, ScriptOutputType.MULTI, new String[] {slotKey},
                    args);
            return bySha.toCompletableFuture().handle((value, failure) -> {
                if (failure == null) {
                    return value;
                }
                if (unwrap(failure) instanceof RedisNoScriptException) {
                    scripts.reload(redis);
                    throw ApiException.unavailable("Redis lost the engine's scripts (restarted?); they are being "
                            + "loaded again; retry shortly");
                }
                throw unwrap(failure) instanceof RuntimeException r ? r : new CompletionException(unwrap(failure));
            }).thenCompose(replyAndEffects -> applyEffects(redis, (List<Object>) replyAndEffects.get(1))
                    .thenApply(applied -> (T) replyAndEffects.get(0)));
        }
    }

    /**
     * Applies a script's effects, in their order, on the connection the script answered on (so the effects of
     * scripts answered earlier are sent earlier); completes once Redis has applied all of them.
     */
    private static CompletableFuture<Void> applyEffects(RedisClusterAsyncCommands<String, byte[]> redis,
                                                        List<Object> effects) {
        if (effects.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        List<CompletableFuture<Long>> applied = new ArrayList<>(effects.size() / 3);
        for (int i = 0; i < effects.size(); i += 3) {
            String key = RedisBroker.text(effects.get(i + 1));
            byte[] member = (byte[]) effects.get(i + 2);
            applied.add((switch (RedisBroker.text(effects.get(i))) {
                case "+" -> redis.zadd(key, 0, member);
                case "-" -> redis.zrem(key, member);
                default -> redis.publish(key, member);
            }).toCompletableFuture());
        }
        return CompletableFuture.allOf(applied.toArray(CompletableFuture[]::new));
    }

    /** Loads every script, waiting for Redis: when the engine opens (on every master of a cluster). */
    void loadAll(RedisClusterCommands<String, byte[]> redis) {
        for (Script s : all) {
            redis.scriptLoad(s.text());
        }
    }

    private void reload(RedisClusterAsyncCommands<String, byte[]> redis) {
        if (reloading.compareAndSet(false, true)) {
            List<CompletableFuture<String>> loads = all.stream().map(s -> redis.scriptLoad(s.text())
                    .toCompletableFuture()).toList();
            CompletableFuture.allOf(loads.toArray(CompletableFuture[]::new))
                    .whenComplete((ok, e) -> reloading.set(false));
        }
    }

    private static Throwable unwrap(Throwable t) {
        return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    private Script load(String name) {
        // The body runs as a function, so that whatever it returns can be returned with the effects it left.
        String text = resource("common.lua") + "\nlocal function main()\n" + resource(name) + "\nend\n"
                + "local reply = main()\n"
                + "if type(reply) == 'table' and reply.err then return reply end\n"
                + "return {reply, EFFECTS}\n";
        Script s = new Script(name, text, Base16.digest(text.getBytes(StandardCharsets.UTF_8)), this);
        all.add(s);
        return s;
    }

    private static String resource(String name) {
        try (InputStream in = RedisScripts.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("script " + name + " missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
