package dev.switchboard.client;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.Durations;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.HeaderRules;
import dev.switchboard.wire.Payloads;
import dev.switchboard.wire.TopicNames;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/** The {@link Switchboard} client over {@link Rest}; see its Javadoc for the contract. */
final class Client implements Switchboard {
    static final Duration MAX_WAIT = Duration.ofMinutes(5);
    /** Messages a group subscription fetches at once: what it holds in hand, unacknowledged, at most. */
    private static final int GROUP_BATCH = 16;
    private static final String TEXT = "text/plain; charset=utf-8";
    private static final int MAX_KEY = 255;
    private static final int MAX_TYPE = 255;
    private static final String HEADER_PREFIX = "Switchboard-Header-";

    private final Rest rest;
    private final Set<AutoCloseable> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    public Client(SwitchboardOptions options) {
        this.rest = new Rest(Objects.requireNonNull(options, "options"));
    }

    // ---- Topics

    @Override
    public Published publish(String topic, String text) {
        return Rest.join(publishAsync(topic, text));
    }

    @Override
    public Published publishJson(String topic, String json) {
        byte[] bytes = Objects.requireNonNull(json, "json").getBytes(StandardCharsets.UTF_8);
        try {
            Payloads.requireJson(bytes, "the payload");
        } catch (ApiException e) {
            throw Errors.of(e.code().wire(), 0, e.getMessage());
        }
        return publish(topic, bytes, "application/json", null);
    }

    @Override
    public Published publish(String topic, byte[] data, String type, String idempotencyKey) {
        return Rest.join(publishAsync(topic, data, type, idempotencyKey));
    }

    @Override
    public CompletableFuture<Published> publishAsync(String topic, String text) {
        return publishAsync(topic, Objects.requireNonNull(text, "text").getBytes(StandardCharsets.UTF_8), TEXT, null);
    }

    @Override
    public CompletableFuture<Published> publishAsync(String topic, byte[] data, String type, String idempotencyKey) {
        return publishAsync(topic, data, type, idempotencyKey, Map.of());
    }

    @Override
    public Published publish(String topic, byte[] data, String type, String idempotencyKey,
                             Map<String, List<String>> headers) {
        return Rest.join(publishAsync(topic, data, type, idempotencyKey, headers));
    }

    @Override
    public CompletableFuture<Published> publishAsync(String topic, byte[] data, String type, String idempotencyKey,
                                                    Map<String, List<String>> headers) {
        checkOpen();
        topic(topic);
        Objects.requireNonNull(data, "data");
        type(type);
        key(idempotencyKey);
        headers(headers);
        String path = "/v1/topics/" + topic + "/messages";
        return rest.send(server -> withHeaders(post(server, path, type, data, idempotencyKey), headers),
                        idempotencyKey != null ? Rest.Retry.SAFE : Rest.Retry.UNSENT, Duration.ZERO, 200, 201)
                .thenApply(a -> {
                    JsonNode j = Json.tree(a.body());
                    if (!j.path("offset").isIntegralNumber()) {
                        throw Errors.protocol("a publish answer without offset: " + Json.abbreviate(j.toString()));
                    }
                    boolean replayed = a.response().headers().firstValue("Idempotent-Replayed").map("true"::equals).orElse(false);
                    return new Published(topic, j.path("offset").asLong(), j.path("time").asText(null), replayed);
                });
    }

    /** A POST of {@code body}, with the idempotency key when there is one: a retry with it stores nothing new. */
    private HttpRequest.Builder post(java.net.URI server, String path, String type, byte[] body, String key) {
        HttpRequest.Builder b = rest.request(server, path).header("Content-Type", type)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (key != null) {
            b.header("Idempotency-Key", key);
        }
        return b;
    }

    /** The message's headers as {@code Switchboard-Header-<Name>} request headers, one per value. */
    private static HttpRequest.Builder withHeaders(HttpRequest.Builder request, Map<String, List<String>> headers) {
        headers.forEach((name, values) -> {
            for (String value : values) {
                request.header(HEADER_PREFIX + name, value);
            }
        });
        return request;
    }

    @Override
    public Page fetch(String topic, From from, int limit) {
        return Rest.join(fetchAsync(topic, from, limit));
    }

    @Override
    public CompletableFuture<Page> fetchAsync(String topic, From from, int limit) {
        return read(topic, from, limit, null);
    }

    @Override
    public Page poll(String topic, From from, int limit, Duration wait) {
        return Rest.join(pollAsync(topic, from, limit, wait));
    }

    @Override
    public CompletableFuture<Page> pollAsync(String topic, From from, int limit, Duration wait) {
        wait(wait, "wait");
        if (wait.compareTo(MAX_WAIT) > 0) {
            throw invalid(ErrorCode.INVALID_DURATION, "wait must be at most 5m (the server's --max-wait), got " + wait);
        }
        return read(topic, from, limit, wait);
    }

    private CompletableFuture<Page> read(String topic, From from, int limit, Duration wait) {
        checkOpen();
        topic(topic);
        Objects.requireNonNull(from, "from");
        if (limit < 1 || limit > 1000) {
            throw invalid(ErrorCode.INVALID_LIMIT, "limit must be 1 to 1000, got " + limit);
        }
        String path = "/v1/topics/" + topic + "/messages?from=" + from + "&limit=" + limit
                + (wait == null ? "" : "&wait=" + Durations.format(wait));
        return rest.send(server -> rest.request(server, path).GET(), Rest.Retry.SAFE,
                wait == null ? Duration.ZERO : wait, 200).thenApply(a -> Json.page(a.body()));
    }

    @Override
    public Subscription subscribe(String topic, From from, MessageHandler handler) {
        return subscribe(topic, from, SubscribeOptions.defaults(), handler);
    }

    @Override
    public Subscription subscribe(String topic, From from, SubscribeOptions options, MessageHandler handler) {
        checkOpen();
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(handler, "handler");
        if (topic != null && TopicNames.isPattern(topic)) {
            pattern(topic, from, options);
        } else {
            topic(topic);
        }
        SubscriptionImpl.Reader reader = switch (options.transport()) {
            case WEBSOCKET -> new WebSocketReader();
            case SSE -> new SseReader();
            case LONG_POLL -> new PollReader();
        };
        SubscriptionImpl sub = new SubscriptionImpl(rest, topic, from, options, handler, reader);
        track(sub);
        sub.closed().whenComplete((v, t) -> open.remove(sub));
        sub.start();
        return sub;
    }

    // ---- Consumer groups

    @Override
    public GroupMember groupMember(String topic, String group, String member) {
        checkOpen();
        topic(topic);
        return new GroupMemberImpl(rest, topic, group, member);
    }

    @Override
    public Subscription subscribe(String topic, String group, MessageHandler handler) {
        checkOpen();
        topic(topic);
        Objects.requireNonNull(handler, "handler");
        String member = "java-" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
        GroupSubscription sub = new GroupSubscription(new GroupMemberImpl(rest, topic, group, member), GROUP_BATCH,
                handler, rest.options);
        track(sub);
        sub.closed().whenComplete((v, t) -> open.remove(sub));
        sub.start();
        return sub;
    }

    // ---- Jobs

    @Override
    public JobHandle submit(String queue, byte[] payload, String type, String idempotencyKey) {
        return Rest.join(submitAsync(queue, payload, type, idempotencyKey));
    }

    @Override
    public CompletableFuture<JobHandle> submitAsync(String queue, byte[] payload, String type, String idempotencyKey) {
        return submitted(queue, payload, type, idempotencyKey, null).thenApply(job -> new JobHandleImpl(rest, this, job.id()));
    }

    /** Submits; with {@code wait}, the server holds the answer until the job finishes or the wait ends. */
    private CompletableFuture<Job> submitted(String queue, byte[] payload, String type, String key, Duration wait) {
        checkOpen();
        queue(queue);
        Objects.requireNonNull(payload, "payload");
        type(type);
        key(key);
        String path = "/v1/queues/" + queue + "/jobs" + (wait == null ? "" : "?wait=" + Durations.format(wait));
        return rest.send(server -> post(server, path, type, payload, key),
                        key != null ? Rest.Retry.SAFE : Rest.Retry.UNSENT, wait == null ? Duration.ZERO : wait, 200, 202)
                .thenApply(a -> Json.job(a.body()));
    }

    @Override
    public JobHandle job(String id) {
        checkOpen();
        Objects.requireNonNull(id, "id");
        if (id.isEmpty() || id.length() > 64) {
            throw invalid(ErrorCode.INVALID_QUERY, "a job id is 1-64 chars, got '" + TopicNames.abbreviate(id) + "'");
        }
        return new JobHandleImpl(rest, this, id);
    }

    @Override
    public Job call(String queue, byte[] payload, String type, Duration timeout) {
        return Rest.join(callAsync(queue, payload, type, timeout));
    }

    @Override
    public CompletableFuture<Job> callAsync(String queue, byte[] payload, String type, Duration timeout) {
        wait(timeout, "timeout");
        long deadline = System.nanoTime() + timeout.toNanos();
        return submitted(queue, payload, type, null, timeout.compareTo(MAX_WAIT) > 0 ? MAX_WAIT : timeout)
                .thenCompose(job -> {
                    JobHandleImpl handle = new JobHandleImpl(rest, this, job.id());
                    if (job.finished()) {
                        return CompletableFuture.completedFuture(job);
                    }
                    return handle.awaitAsync(Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime())));
                })
                .thenCompose(job -> {
                    if (!job.finished()) {
                        throw new JobTimeoutException(job);
                    }
                    if (job.status() != dev.switchboard.client.JobStatus.SUCCEEDED) {
                        throw new JobFailedException(job);
                    }
                    return new JobHandleImpl(rest, this, job.id()).withResult(job);
                });
    }

    @Override
    public Worker worker(String queue, JobHandler handler) {
        return worker(queue, WorkerOptions.defaults(), handler);
    }

    @Override
    public Worker worker(String queue, WorkerOptions options, JobHandler handler) {
        checkOpen();
        queue(queue);
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(handler, "handler");
        WorkerImpl worker = new WorkerImpl(rest, queue, options, handler);
        track(worker);
        worker.start();
        return worker;
    }

    @Override
    public void close() {
        closed = true;
        for (AutoCloseable c : open) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing the rest matters more
            }
        }
        // Java 17's HttpClient has no close(): its daemon threads end once it is unreachable.
    }

    private void track(AutoCloseable c) {
        open.add(c);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the client is closed");
        }
    }

    // ---- Argument checks: fail fast, in the caller's thread, with the API's own rules and codes, so a refusal reads
    // the same whether this client or the server found it.

    private static void topic(String topic) {
        name(topic, "a topic name");
    }

    /** A pattern ({@code chat.*}) is followed over WebSocket, from next or earliest; its syntax the server checks. */
    private static void pattern(String pattern, From from, SubscribeOptions options) {
        if (options.transport() != Transport.WEBSOCKET) {
            throw invalid(ErrorCode.INVALID_TOPIC, "a pattern ('" + TopicNames.abbreviate(pattern)
                    + "') is subscribed to over WebSocket only");
        }
        if (from.isOffset()) {
            throw invalid(ErrorCode.INVALID_FROM, "a pattern starts at next or earliest: one offset means nothing"
                    + " across topics");
        }
    }

    private static void queue(String queue) {
        name(queue, "a queue name");
    }

    private static void name(String name, String what) {
        Objects.requireNonNull(name, what);
        if (!TopicNames.isValid(name)) {
            throw invalid(ErrorCode.INVALID_TOPIC, what + " is 1-255 chars of [A-Za-z0-9_-] segments joined by '.', got '"
                    + TopicNames.abbreviate(name) + "'");
        }
    }

    private static void type(String type) {
        Objects.requireNonNull(type, "type");
        if (type.isEmpty() || type.length() > MAX_TYPE || !type.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
            throw invalid(ErrorCode.INVALID_TYPE, "a content type is 1-255 printable ASCII chars, got '"
                    + TopicNames.abbreviate(type) + "'");
        }
    }

    private static void key(String key) {
        if (key != null && (key.isEmpty() || key.length() > MAX_KEY || !key.chars().allMatch(c -> c > 0x20 && c < 0x7f))) {
            throw invalid(ErrorCode.INVALID_IDEMPOTENCY_KEY, "an idempotency key is 1-255 visible ASCII chars, got '"
                    + TopicNames.abbreviate(key) + "'");
        }
    }

    private static void headers(Map<String, List<String>> headers) {
        Objects.requireNonNull(headers, "headers");
        try {
            HeaderRules.validate(headers);
        } catch (ApiException e) {
            throw invalid(e.code(), e.getMessage());
        }
        headers.forEach((name, values) -> {
            // The JDK's HttpClient writes header values as US-ASCII, turning any other char into '?'.
            if (!values.stream().allMatch(v -> v.chars().allMatch(c -> c < 0x80))) {
                throw invalid(ErrorCode.INVALID_HEADERS, "this client sends header values over HTTP, as ASCII only;"
                        + " the value of header '" + name + "' is not (other clients, and NATS, send UTF-8)");
            }
        });
    }

    private static InvalidRequestException invalid(ErrorCode code, String message) {
        return (InvalidRequestException) Errors.of(code.wire(), 0, message);
    }

    static Duration wait(Duration wait, String what) {
        Objects.requireNonNull(wait, what);
        if (wait.toMillis() < 1 || wait.toHours() > 24) {
            throw invalid(ErrorCode.INVALID_DURATION, what + " must be 1ms to 24h, got " + wait);
        }
        return wait;
    }
}
