package dev.switchboard.codec.sse;

import dev.switchboard.codec.http.Exchange;
import dev.switchboard.codec.http.HeldRequest;
import dev.switchboard.fanout.Delivery;
import dev.switchboard.fanout.StartPosition;
import dev.switchboard.fanout.TopicFeed;
import dev.switchboard.jobs.Job;
import dev.switchboard.jobs.JobService;
import dev.switchboard.presence.Presence;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.TopicNames;
import dev.switchboard.xray.ConnectionStats;
import dev.switchboard.xray.Transport;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.time.Duration;

/**
 * {@code GET /v1/topics/{topic}/events}: answers with an SSE stream, a streaming response ({@link Exchange#stream})
 * whose body is the events, written by an {@link SseSink} as they come. Resumes from {@code Last-Event-ID} + 1 when
 * the client sends one (a reconnecting EventSource does), else from {@code ?from=} (default {@code next}). Events
 * carry the payload, or with {@code ?format=envelope} the message envelope.
 */
public final class SseEndpoint {
    private final Delivery delivery;
    private final Duration heartbeat;
    private final Duration slowConsumerTimeout;
    private final Presence presence;

    public SseEndpoint(Delivery delivery, Duration heartbeat, Duration slowConsumerTimeout, Presence presence) {
        this.presence = presence;
        this.delivery = delivery;
        this.heartbeat = heartbeat;
        this.slowConsumerTimeout = slowConsumerTimeout;
    }

    public void stream(Exchange ex, String topicName) {
        TopicNames.validate(topicName);
        StartPosition from = startOf(ex.header("Last-Event-ID"), ex.query("from"), StartPosition.NEXT);
        open(ex, topicName, from, topicFormat(ex.query("format")), ex.grants().subject());
    }

    /** {@code ?format=}: {@code payload} (the default) or {@code envelope}, which carries type, time and headers. */
    private static SseFormat topicFormat(String format) {
        if (format == null || format.equals("payload")) {
            return SseFormat.TOPIC;
        }
        if (format.equals("envelope")) {
            return SseFormat.TOPIC_ENVELOPE;
        }
        throw new ApiException(ErrorCode.INVALID_QUERY, "format must be 'payload' or 'envelope', got '"
                + TopicNames.abbreviate(format) + "'");
    }

    /**
     * {@code GET /v1/jobs/{id}/events}: the job's topic as {@code status}/{@code progress} events, starting with the
     * job's current state (or after {@code Last-Event-ID}); the stream ends after the terminal status.
     */
    public void streamJob(Exchange ex, Job job) {
        StartPosition from = startOf(ex.header("Last-Event-ID"), null, new StartPosition.AtOffset(job.version()));
        open(ex, JobService.topicOf(job.id()), from, SseFormat.JOB, null);
    }

    /** @param subject who is present on the topic while the stream lasts; null: no presence (a job's events) */
    private void open(Exchange ex, String topicName, StartPosition from, SseFormat format, String subject) {
        TopicFeed topic = delivery.attach(topicName);
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
                .set("X-Accel-Buffering", "no");
        ConnectionStats.of(ex.ctx().channel()).use(Transport.SSE); // the stream's head is SSE traffic too
        ex.stream(head);
        if (ex.request() instanceof HeldRequest held && held.prelude().length > 0) {
            ex.ctx().write(new DefaultHttpContent(Unpooled.wrappedBuffer(held.prelude()))); // the upstream's part first
        }
        SseSink sink = new SseSink(delivery, topic, format, heartbeat, slowConsumerTimeout, ex.grants().validUntil(),
                subject == null ? () -> {} : presenceOf(topicName, subject));
        ex.ctx().pipeline().addLast(sink);
        sink.start(delivery.subscribe(topic, from, sink));
    }

    /** Joins now; the returned action leaves. */
    private Runnable presenceOf(String topic, String subject) {
        Presence.Member m = presence.join(topic, subject, "sse");
        return () -> presence.leave(m);
    }

    static StartPosition startOf(String lastEventId, String from, StartPosition absent) {
        if (lastEventId != null && !lastEventId.isBlank()) {
            try {
                long id = Long.parseLong(lastEventId.trim());
                if (id >= 0 && id < Long.MAX_VALUE) { // id + 1 must not overflow into a negative offset
                    return new StartPosition.AtOffset(id + 1);
                }
            } catch (NumberFormatException ignored) {
                // refused below
            }
            throw new ApiException(ErrorCode.INVALID_FROM, "Last-Event-ID must be an offset, got '" + lastEventId + "'");
        }
        return StartPosition.parse(from, absent);
    }
}
