package dev.switchboard.engine.redis;

import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.Base16;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * The engine's Lua scripts (resources next to this class): each runs atomically in Redis, which is what makes an
 * offset, an idempotency key and a transaction safe with any number of nodes. Run by digest; a Redis that lost its
 * script cache (restarted) gets the text once more.
 */
final class RedisScripts {
    final Script append = load("append.lua");
    final Script retention = load("retention.lua");
    final Script age = load("age.lua");
    final Script delete = load("delete.lua");
    final Script transaction = load("transaction.lua");

    /** One script: its text (common part first) and its SHA-1, as Redis names it. */
    record Script(String name, String text, String digest) {
        <T> CompletableFuture<T> run(RedisAsyncCommands<String, byte[]> redis, ScriptOutputType output,
                                     byte[]... args) {
            RedisFuture<T> bySha = redis.evalsha(digest, output, new String[0], args);
            return bySha.toCompletableFuture().handle((value, failure) -> {
                if (failure == null) {
                    return CompletableFuture.completedFuture(value);
                }
                if (unwrap(failure) instanceof RedisNoScriptException) {
                    return redis.<T>eval(text, output, new String[0], args).toCompletableFuture();
                }
                return CompletableFuture.<T>failedFuture(unwrap(failure));
            }).thenCompose(f -> (CompletionStage<T>) f);
        }
    }

    private static Throwable unwrap(Throwable t) {
        return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    private static Script load(String name) {
        String text = resource("common.lua") + "\n" + resource(name);
        return new Script(name, text, Base16.digest(text.getBytes(StandardCharsets.UTF_8)));
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
