package dev.switchboard.codec.longpoll;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.switchboard.broker.Message;
import dev.switchboard.codec.Envelope;
import dev.switchboard.codec.http.Exchange;
import dev.switchboard.codec.http.HttpResponses;
import dev.switchboard.fanout.Delivery;
import dev.switchboard.fanout.ReadResult;
import dev.switchboard.fanout.StartPosition;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.Durations;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.xray.ConnectionStats;
import dev.switchboard.xray.Transport;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * {@code GET /v1/topics/{topic}/messages}: a short poll, or with {@code wait=} a long poll held until a
 * message arrives or the wait ends. Defaults: {@code from=earliest}, {@code limit=100}, no wait.
 */
public final class PollEndpoint {
    private static final int DEFAULT_LIMIT = 100;

    private final Delivery delivery;

    public PollEndpoint(Delivery delivery) {
        this.delivery = delivery;
    }

    public void poll(Exchange ex, String topic) {
        StartPosition from = StartPosition.parse(ex.query("from"), StartPosition.EARLIEST);
        int limit = parseLimit(ex.query("limit"));
        String waitText = ex.query("wait");
        Duration wait = waitText == null ? Duration.ZERO : Durations.parse(waitText, "wait");
        CompletableFuture<ReadResult> polled = delivery.poll(topic, from, limit, wait, ex.ctx().executor());
        ConnectionStats stats = ConnectionStats.of(ex.ctx().channel());
        if (!polled.isDone()) {
            stats.use(Transport.LONGPOLL); // until answered (the router turns it back into http)
            if (polled instanceof ConnectionStats.SubscriptionSource held) {
                Runnable forget = stats.subscriptions(held); // listed while held
                polled.whenComplete((r, e) -> ex.ctx().executor().execute(forget));
            }
        }
        ex.respondWhenDone(polled, wait, result -> {
            stats.messagesOut(result.messages().size());
            ex.respond(encode(ex.ctx().alloc(), result));
        });
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

    /** {@code {"topic","messages":[envelope…],"next","gap"}}. */
    static FullHttpResponse encode(ByteBufAllocator alloc, ReadResult r) {
        ByteBuf buf = alloc.buffer();
        try (JsonGenerator g = Envelope.JSON.createGenerator((java.io.OutputStream) new ByteBufOutputStream(buf))) {
            g.writeStartObject();
            g.writeStringField("topic", r.topic());
            g.writeArrayFieldStart("messages");
            for (Message m : r.messages()) {
                g.writeStartObject();
                Envelope.writeFields(g, m);
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeNumberField("next", r.next());
            g.writeBooleanField("gap", r.gap());
            g.writeEndObject();
        } catch (IOException e) {
            buf.release();
            throw new UncheckedIOException(e);
        }
        return HttpResponses.withBody(HttpResponseStatus.OK, buf, "application/json");
    }
}
