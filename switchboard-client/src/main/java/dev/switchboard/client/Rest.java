package dev.switchboard.client;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Requests over the JDK HTTP client with failover and retries: each attempt goes to the URL in use; one that cannot
 * connect moves on to the next URL, each URL tried once. {@link Retry#SAFE} requests are then retried after a lost
 * connection or a 503, with backoff and jitter, until their deadline.
 */
final class Rest {
    /** Whether a request may be sent again after it may have reached the server. */
    enum Retry {
        /** Reads and idempotent writes: lost connections and 503s are retried until the deadline. */
        SAFE,
        /** Only sent on to the next URL when it could not connect: it may have taken effect otherwise. */
        UNSENT
    }

    /** An answer whose status was one the caller expected. */
    record Answer(int status, byte[] body, HttpResponse<byte[]> response) {}

    final HttpClient http;
    final SwitchboardOptions options;
    final Endpoints endpoints;

    Rest(SwitchboardOptions options) {
        this.options = options;
        this.endpoints = new Endpoints(options.servers());
        // HTTP/1.1 only: the API is specified over it, and it spares every request an h2c upgrade attempt.
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(options.connectTimeout())
                .build();
    }

    /** A request builder for {@code pathAndQuery} on {@code server}, with the bearer token when there is one. */
    HttpRequest.Builder request(URI server, String pathAndQuery) {
        HttpRequest.Builder b = HttpRequest.newBuilder(Endpoints.resolve(server, pathAndQuery));
        authorize(b::header);
        return b;
    }

    /** Adds {@code Authorization: Bearer} through {@code header} when the token supplier gives a token. */
    void authorize(java.util.function.BiConsumer<String, String> header) {
        if (options.token() != null) {
            String token = options.token().get();
            if (token != null) {
                header.accept("Authorization", "Bearer " + token);
            }
        }
    }

    /**
     * Sends what {@code build} makes for the URL in use, each attempt timing out after {@code extraWait} plus the
     * request timeout, until one answers with a status in {@code ok}; any other status is the server's error.
     */
    CompletableFuture<Answer> send(Function<URI, HttpRequest.Builder> build, Retry retry, Duration extraWait,
                                   int... ok) {
        Attempts a = new Attempts(build, retry, extraWait, ok);
        a.attempt();
        return a.result;
    }

    private final class Attempts {
        final Function<URI, HttpRequest.Builder> build;
        final Retry retry;
        final Duration timeout;
        final int[] ok;
        final long deadline;
        final Backoff backoff = new Backoff(options.reconnectMin(), options.reconnectMax());
        final CompletableFuture<Answer> result = new CompletableFuture<>();
        /** URLs tried since the last pause: each is tried once before backing off. */
        int unreachableInRow;

        Attempts(Function<URI, HttpRequest.Builder> build, Retry retry, Duration extraWait, int[] ok) {
            this.build = build;
            this.retry = retry;
            this.timeout = options.requestTimeout().plus(extraWait);
            this.ok = ok;
            this.deadline = System.nanoTime() + options.retryFor().toNanos();
        }

        void attempt() {
            URI server = endpoints.current();
            HttpRequest request;
            try {
                request = build.apply(server).timeout(timeout).build();
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
                return;
            }
            CompletableFuture<HttpResponse<byte[]>> sent = http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray());
            result.whenComplete((r, t) -> sent.cancel(true)); // a cancelled result abandons the request
            sent.whenComplete((response, failure) -> {
                if (result.isDone()) {
                    return;
                }
                if (failure != null) {
                    failed(server, Errors.unwrap(failure));
                } else {
                    answered(server, response);
                }
            });
        }

        private void failed(URI server, Throwable failure) {
            if (!(failure instanceof IOException)) {
                result.completeExceptionally(failure);
                return;
            }
            boolean unsent = failure instanceof ConnectException || failure instanceof HttpConnectTimeoutException;
            endpoints.failed(server);
            if (unsent && ++unreachableInRow < endpoints.size()) {
                attempt(); // the next URL at once
                return;
            }
            unreachableInRow = 0;
            if (retry == Retry.SAFE && !expired()) {
                later();
            } else {
                result.completeExceptionally(Errors.unreachable(server, failure));
            }
        }

        private void answered(URI server, HttpResponse<byte[]> response) {
            int status = response.statusCode();
            for (int s : ok) {
                if (s == status) {
                    result.complete(new Answer(status, response.body(), response));
                    return;
                }
            }
            SwitchboardException error = Errors.of(status, response.body());
            if (status == 503 && retry == Retry.SAFE && !expired()) {
                later();
            } else {
                result.completeExceptionally(error);
            }
        }

        private boolean expired() {
            return System.nanoTime() - deadline > 0;
        }

        private void later() {
            CompletableFuture.delayedExecutor(backoff.next().toMillis(), TimeUnit.MILLISECONDS).execute(() -> {
                if (!result.isDone()) {
                    attempt();
                }
            });
        }
    }

    /**
     * One attempt, blocking but interruptible (the request is abandoned then), without retries: for loops that
     * handle failures themselves.
     */
    HttpResponse<byte[]> once(HttpRequest request) throws IOException, InterruptedException {
        CompletableFuture<HttpResponse<byte[]>> f = http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray());
        try {
            return f.get();
        } catch (InterruptedException e) {
            f.cancel(true);
            throw e;
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = Errors.unwrap(e);
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException(Errors.describe(cause), cause);
        }
    }

    /** The blocking form of an async call: its value, or its failure as thrown by the operation. */
    static <T> T join(CompletableFuture<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new dev.switchboard.client.ConnectionException("interrupted while waiting for the server", e);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = Errors.unwrap(e);
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            throw new dev.switchboard.client.ConnectionException(Errors.describe(cause), cause);
        }
    }
}
