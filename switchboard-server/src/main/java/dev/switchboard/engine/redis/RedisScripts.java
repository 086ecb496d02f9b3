package dev.switchboard.engine.redis;

import dev.switchboard.wire.ApiException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
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
 */
final class RedisScripts {
    private final List<Script> all = new ArrayList<>();
    final Script append = load("append.lua");
    final Script retention = load("retention.lua");
    final Script age = load("age.lua");
    final Script delete = load("delete.lua");
    final Script transaction = load("transaction.lua");
    final Script jobs = load("jobs.lua");
    private final AtomicBoolean reloading = new AtomicBoolean();

    /** One script: its text (common part first) and its SHA-1, as Redis names it. */
    record Script(String name, String text, String digest, RedisScripts scripts) {
        <T> CompletableFuture<T> run(RedisAsyncCommands<String, byte[]> redis, ScriptOutputType output,
                                     byte[]... args) {
            RedisFuture<T> bySha = redis.evalsha(digest, output, new String[0], args);
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
            });
        }
    }

    /** Loads every script, waiting for Redis: when the engine opens. */
    void loadAll(RedisCommands<String, byte[]> redis) {
        for (Script s : all) {
            redis.scriptLoad(s.text());
        }
    }

    private void reload(RedisAsyncCommands<String, byte[]> redis) {
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
        String text = resource("common.lua") + "\n" + resource(name);
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
