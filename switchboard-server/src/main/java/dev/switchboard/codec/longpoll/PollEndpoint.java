package dev.switchboard.codec.longpoll;

import dev.switchboard.broker.Message;
import dev.switchboard.codec.Envelope;
import dev.switchboard.codec.JsonBytes;
import dev.switchboard.codec.StreamTopics;
import dev.switchboard.codec.http.Exchange;
import dev.switchboard.codec.http.HttpResponses;
import dev.switchboard.fanout.Delivery;
import dev.switchboard.fanout.ManyTopicsAnswer;
import dev.switchboard.fanout.ReadResult;
import dev.switchboard.fanout.StartPosition;
import dev.switchboard.fanout.StreamCursor;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.Durations;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.xray.ConnectionStats;
import dev.switchboard.xray.Transport;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * {@code GET /v1/topics/{topic}/messages} (and {@code GET /v1/messages} over many topics): a short poll, or with {@code wait=} a long poll held until a
 * message arrives or the wait ends. Defaults: {@code from=earliest}, {@code limit=100}, no wait.
 */
public final class PollEndpoint {
    private static final int DEFAULT_LIMIT = 100;
    private static final byte[] TOPIC = JsonBytes.ascii("{\"topic\":"); // an answer's, and a gap's
    private static final byte[] MESSAGES = JsonBytes.ascii("\"messages\":[");
    private static final byte[] NEXT = JsonBytes.ascii(",\"next\":");
    private static final byte[] GAP = JsonBytes.ascii(",\"gap\":");
    private static final byte[] CURSOR = JsonBytes.ascii(",\"cursor\":");
    private static final byte[] GAPS = JsonBytes.ascii(",\"gaps\":[");
    private static final byte[] GAP_FROM = JsonBytes.ascii(",\"from\":");
    private static final byte[] GAP_FIRST = JsonBytes.ascii(",\"first\":");

    private final Delivery delivery;

    public PollEndpoint(Delivery delivery) {
        this.delivery = delivery;
    }

    public void poll(Exchange ex, String topic) {
        StartPosition from = StartPosition.parse(ex.query("from"), StartPosition.EARLIEST);
        int limit = parseLimit(ex.query("limit"));
        Duration wait = parseWait(ex);
        CompletableFuture<ReadResult> polled = delivery.poll(topic, from, limit, wait, ex.ctx().executor());
        answer(ex, polled, wait, result -> encode(ex.ctx().alloc(), result), result -> result.messages().size());
    }

    /**
     * {@code GET /v1/messages?topic=a&topic=chat.*&cursor=C&wait=30s}: a poll over many topics and patterns
     * (docs/api.md, "Streams over many topics"), answering {@code {"messages","cursor","gaps"}}; {@code cursor}
     * resumes every topic at once and wins over {@code from} (default {@code earliest}).
     */
    public void pollMany(Exchange ex) {
        StreamTopics topics = StreamTopics.parse(ex.queryAll("topic"), ex.query("cursor"), ex.query("from"),
                StartPosition.EARLIEST, ex.grants());
        int limit = parseLimit(ex.query("limit"));
        Duration wait = parseWait(ex);
        CompletableFuture<ManyTopicsAnswer> polled = delivery.pollMany(List.copyOf(topics.exact()),
                topics.hasPatterns() ? topics.matchedByPatterns() : null, topics::startOf, limit, wait,
                ex.ctx().executor());
        answer(ex, polled, wait, result -> encode(ex.ctx().alloc(), result), result -> result.messages().size());
    }

    private static Duration parseWait(Exchange ex) {
        String waitText = ex.query("wait");
        return waitText == null ? Duration.ZERO : Durations.parse(waitText, "wait");
    }

    private static <T> void answer(Exchange ex, CompletableFuture<T> polled, Duration wait,
                                   Function<T, FullHttpResponse> encode, ToIntFunction<T> messages) {
        ConnectionStats stats = ConnectionStats.of(ex.ctx().channel());
        if (!polled.isDone()) {
            stats.use(Transport.LONGPOLL); // until answered (the router turns it back into http)
            if (polled instanceof ConnectionStats.SubscriptionSource held) {
                stats.listWhileHeld(held);
            }
        }
        ex.respondWhenDone(polled, wait, result -> {
            stats.messagesOut(messages.applyAsInt(result));
            ex.respond(encode.apply(result));
        });
        if (!polled.isDone()) {
            ex.forgetRequest(); // parsed: a held poll's answer needs none of it
        }
    }

    private static int parseLimit(String text) {
        if (text == null) {
            return DEFAULT_LIMIT;
        }
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new ApiException(ErrorCode.INVALID_LIMIT, "limit must be a whole number");
        }
    }

    /**
     * {@code {"topic","messages":[envelope…],"next","gap"}}, written as bytes as Jackson would have written it.
     * Public for its benchmark.
     */
    public static FullHttpResponse encode(ByteBufAllocator alloc, ReadResult r) {
        JsonBytes w = JsonBytes.scratch().raw(TOPIC).string(r.topic()).raw((byte) ',');
        writeMessages(w, r.messages());
        w.raw(NEXT).number(r.next()).raw(GAP).bool(r.gap()).raw((byte) '}');
        return HttpResponses.ownHeaders(HttpResponseStatus.OK, w.copyTo(alloc), HttpHeaderValues.APPLICATION_JSON);
    }

    /** {@code {"messages":[envelope…],"cursor","gaps":[{"topic","from","first"}…]}}. */
    static FullHttpResponse encode(ByteBufAllocator alloc, ManyTopicsAnswer a) {
        JsonBytes w = JsonBytes.scratch().raw((byte) '{');
        writeMessages(w, a.messages());
        w.raw(CURSOR).string(StreamCursor.encode(a.next())).raw(GAPS);
        List<ManyTopicsAnswer.Gap> gaps = a.gaps();
        for (int i = 0; i < gaps.size(); i++) {
            ManyTopicsAnswer.Gap gap = gaps.get(i);
            if (i > 0) {
                w.raw((byte) ',');
            }
            w.raw(TOPIC).string(gap.topic()).raw(GAP_FROM).number(gap.from())
                    .raw(GAP_FIRST).number(gap.first()).raw((byte) '}');
        }
        w.raw((byte) ']').raw((byte) '}');
        return HttpResponses.ownHeaders(HttpResponseStatus.OK, w.copyTo(alloc), HttpHeaderValues.APPLICATION_JSON);
    }

    private static void writeMessages(JsonBytes w, List<Message> messages) {
        w.raw(MESSAGES);
        boolean first = true;
        for (Message m : messages) {
            if (!first) {
                w.raw((byte) ',');
            }
            first = false;
            w.raw((byte) '{');
            Envelope.writeFields(w, m);
            w.raw((byte) '}');
        }
        w.raw((byte) ']');
    }
}
