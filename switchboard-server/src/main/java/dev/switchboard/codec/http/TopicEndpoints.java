package dev.switchboard.codec.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.broker.BatchResult;
import dev.switchboard.broker.Broker;
import dev.switchboard.broker.PublishResult;
import dev.switchboard.broker.Retention;
import dev.switchboard.broker.TopicState;
import dev.switchboard.codec.JsonBytes;
import dev.switchboard.fanout.Delivery;
import dev.switchboard.presence.Presence;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.Durations;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.Payloads;
import dev.switchboard.wire.TopicNames;
import dev.switchboard.xray.ConnectionStats;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.time.Duration;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/** Publish, list, describe, retention and delete of topics over HTTP. */
public final class TopicEndpoints {
    private static final String DEFAULT_TYPE = "application/octet-stream";
    private static final String IDEMPOTENCY_KEY = "Idempotency-Key";
    private static final byte[] TOPIC = JsonBytes.ascii("{\"topic\":");
    private static final byte[] OFFSET = JsonBytes.ascii(",\"offset\":");
    private static final byte[] TIME = JsonBytes.ascii(",\"time\":");
    private static final Set<String> RETENTION_FIELDS = Set.of("maxMessages", "maxAge", "maxBytes");

    private final Broker broker;
    private final Delivery delivery;
    private final Presence presence;

    public TopicEndpoints(Broker broker, Delivery delivery, Presence presence) {
        this.broker = broker;
        this.delivery = delivery;
        this.presence = presence;
    }

    /** {@code POST /v1/topics/{topic}/messages}, with its {@link PublishHeaders}: 201 once stored (fsync policy). */
    public void publish(Exchange ex, String topic) {
        TopicNames.validate(topic);
        String type = ex.header(HttpHeaderNames.CONTENT_TYPE);
        if (type == null || type.isBlank()) {
            type = DEFAULT_TYPE;
        }
        byte[] payload = ByteBufUtil.getBytes(ex.request().content());
        if (Payloads.isJsonType(type)) {
            Payloads.requireJson(payload);
        }
        String key = ex.header(IDEMPOTENCY_KEY);
        Map<String, List<String>> headers = PublishHeaders.of(ex.request().headers());
        ex.admitPublishes(1);
        ConnectionStats stats = ConnectionStats.of(ex.ctx().channel());
        long storeStart = stats.stages().decoded(ex.stageStart());
        ex.respondWhenDone(stats.stages().stored(storeStart, broker.append(topic, type, payload, headers, key)), r -> {
            stats.messagesIn(r.replayed() ? 0 : 1);
            ex.respond(published(ex.ctx().alloc(), r));
        });
    }

    /**
     * The most frequent answer, built from pre-encoded parts in the thread's {@link JsonBytes} and copied into the
     * buffer in one write: a general-purpose JSON writer, writing each part as its own char sequence into the direct
     * buffer, and a string of the answer then its bytes each cost more than the rest of it. Public for its benchmark.
     */
    public static FullHttpResponse published(ByteBufAllocator alloc, PublishResult r) {
        ByteBuf body = JsonBytes.scratch().raw(TOPIC).string(r.topic()).raw(OFFSET).number(r.offset())
                .raw(TIME).time(r.time()).raw((byte) '}').copyTo(alloc);
        return created(HttpResponses.ownHeaders(HttpResponseStatus.CREATED, body, HttpHeaderValues.APPLICATION_JSON),
                r.replayed());
    }

    /**
     * {@code POST /v1/topics/{topic}/batch}: NDJSON or a JSON array, one JSON message each, stored as one step at
     * contiguous offsets, each with the request's {@link PublishHeaders}; 201 with the range once stored under the
     * fsync policy.
     */
    public void publishBatch(Exchange ex, String topic) {
        TopicNames.validate(topic);
        List<byte[]> messages = BatchBody.messages(ex.header(HttpHeaderNames.CONTENT_TYPE),
                ByteBufUtil.getBytes(ex.request().content()));
        Map<String, List<String>> headers = PublishHeaders.of(ex.request().headers());
        ex.admitPublishes(messages.size());
        ConnectionStats stats = ConnectionStats.of(ex.ctx().channel());
        long storeStart = stats.stages().decoded(ex.stageStart());
        ex.respondWhenDone(stats.stages().stored(storeStart,
                broker.appendBatch(topic, BatchBody.JSON_TYPE, messages, headers, ex.header(IDEMPOTENCY_KEY))), r -> {
                    stats.messagesIn(r.replayed() ? 0 : r.count());
                    ex.respond(published(ex, r));
                });
    }

    private static FullHttpResponse published(Exchange ex, BatchResult r) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("topic", r.topic());
        body.put("firstOffset", r.firstOffset());
        body.put("lastOffset", r.lastOffset());
        body.put("count", r.count());
        body.put("time", Payloads.formatTime(r.time()));
        return created(HttpResponses.json(ex.ctx().alloc(), HttpResponseStatus.CREATED, body), r.replayed());
    }

    /** A 201; a publish answered from an earlier one with the same key says so (extension). */
    private static FullHttpResponse created(FullHttpResponse response, boolean replayed) {
        if (replayed) {
            response.headers().set("Idempotent-Replayed", "true");
        }
        return response;
    }

    /**
     * {@code GET /v1/topics}: the clients' topics, not the server's own ({@code _…}, a job's events), and only those
     * the caller may read.
     */
    public void list(Exchange ex) {
        ex.respondWhenDone(descriptions(Integer.MAX_VALUE, ex.grants()::maySubscribe), topics -> ex.respond(
                HttpResponses.json(ex.ctx().alloc(), HttpResponseStatus.OK, Map.of("topics", topics))));
    }

    /**
     * The first {@code limit} topics by name that {@code readable} lets the caller see, as {@code GET /v1/topics}
     * describes them (also the dashboard's list).
     */
    public CompletableFuture<List<Map<String, Object>>> descriptions(int limit, Predicate<String> readable) {
        return broker.topicsAsync().thenApply(all -> all.stream().filter(t -> !t.name().startsWith("_"))
                .filter(t -> readable.test(t.name())).sorted(Comparator.comparing(TopicState::name)).limit(limit)
                .map(this::describeBody).toList());
    }

    /** {@code GET /v1/topics/{topic}/presence}: who is subscribed now, on this node. */
    public void presence(Exchange ex, String topic) {
        TopicNames.validate(topic);
        ex.respond(HttpResponses.json(ex.ctx().alloc(), HttpResponseStatus.OK,
                Map.of("topic", topic, "members", presence.present(topic))));
    }

    /** {@code GET /v1/topics/{topic}}. */
    public void describe(Exchange ex, String topic) {
        TopicNames.validate(topic);
        ex.respondWhenDone(broker.stateAsync(topic).thenApply(state -> state.orElseThrow(() ->
                        new ApiException(ErrorCode.TOPIC_NOT_FOUND, "no topic '" + topic + "'"))),
                info -> ex.respond(HttpResponses.json(ex.ctx().alloc(), HttpResponseStatus.OK, describeBody(info))));
    }

    /** {@code PUT /v1/topics/{topic}}: replaces the retention; absent fields are unlimited. */
    public void setRetention(Exchange ex, String topic) {
        TopicNames.validate(topic);
        Retention retention = parseRetention(ByteBufUtil.getBytes(ex.request().content()));
        ex.respondWhenDone(broker.setRetention(topic, retention),
                info -> ex.respond(HttpResponses.json(ex.ctx().alloc(), HttpResponseStatus.OK, describeBody(info))));
    }

    /** {@code DELETE /v1/topics/{topic}}: 204, or 404 when there is no such topic. */
    public void delete(Exchange ex, String topic) {
        ex.respondWhenDone(broker.delete(topic), deleted -> ex.respond(deleted
                ? HttpResponses.empty(HttpResponseStatus.NO_CONTENT)
                : HttpResponses.error(ex.ctx().alloc(),
                        new ApiException(ErrorCode.TOPIC_NOT_FOUND, "no topic '" + topic + "'"))));
    }

    static Retention parseRetention(byte[] body) {
        JsonNode root;
        try {
            root = HttpResponses.MAPPER.readTree(body);
        } catch (IOException e) {
            throw new ApiException(ErrorCode.INVALID_JSON, "the body is not valid JSON");
        }
        if (root == null || !root.isObject()) {
            throw new ApiException(ErrorCode.INVALID_RETENTION,
                    "expected a JSON object like {\"maxMessages\":N,\"maxAge\":\"7d\",\"maxBytes\":N}");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!RETENTION_FIELDS.contains(field)) {
                throw new ApiException(ErrorCode.INVALID_RETENTION,
                        "unknown field '" + field + "'; allowed: maxMessages, maxAge, maxBytes");
            }
        }
        Long maxMessages = positiveLong(root.get("maxMessages"), "maxMessages");
        Long maxBytes = positiveLong(root.get("maxBytes"), "maxBytes");
        Duration maxAge = null;
        JsonNode age = root.get("maxAge");
        if (age != null && !age.isNull()) {
            if (!age.isTextual()) {
                throw new ApiException(ErrorCode.INVALID_DURATION, "maxAge must be a duration string like \"7d\"");
            }
            maxAge = Durations.parse(age.asText(), "maxAge");
            if (maxAge.isZero()) {
                throw new ApiException(ErrorCode.INVALID_DURATION, "maxAge must be positive");
            }
        }
        return new Retention(maxMessages, maxAge, maxBytes);
    }

    private static Long positiveLong(JsonNode n, String field) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 1) {
            throw new ApiException(ErrorCode.INVALID_RETENTION, field + " must be a whole number >= 1");
        }
        return n.asLong();
    }

    private Map<String, Object> describeBody(TopicState t) {
        Map<String, Object> retention = new LinkedHashMap<>();
        Retention r = t.retention();
        if (r != null) {
            if (r.maxMessages() != null) retention.put("maxMessages", r.maxMessages());
            if (r.maxAge() != null) retention.put("maxAge", Durations.format(r.maxAge()));
            if (r.maxBytes() != null) retention.put("maxBytes", r.maxBytes());
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("topic", t.name());
        body.put("firstOffset", t.firstOffset());
        body.put("lastOffset", t.lastOffset());
        body.put("messages", t.messages());
        body.put("bytes", t.bytes());
        body.put("created", Payloads.formatTime(t.created()));
        body.put("retention", retention);
        body.put("subscribers", delivery.readers(t.name()));
        return body;
    }
}
