package dev.switchboard.codec.sse;

import dev.switchboard.broker.Handoff;
import dev.switchboard.codec.StreamTopics;
import dev.switchboard.codec.http.Exchange;
import dev.switchboard.codec.http.HeldRequest;
import dev.switchboard.fanout.Delivery;
import dev.switchboard.fanout.PatternFollow;
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
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

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
     * {@code GET /v1/events?topic=a&topic=chat.*}: one stream over many topics and patterns (docs/api.md, "Streams
     * over many topics"), each event's id the stream's cursor; {@code Last-Event-ID} resumes every topic at once.
     * The head is sent once the named topics' feeds are open and the patterns' topics are known (both waits off the
     * loop), so {@code from=next} means after the head.
     */
    public void streamMany(Exchange ex) {
        StreamTopics topics = StreamTopics.parse(ex.queryAll("topic"), ex.header("Last-Event-ID"), ex.query("from"),
                StartPosition.NEXT, ex.grants());
        // Loop-confined: the pattern's topics told before the stream starts, then followed by it.
        EventExecutor loop = ex.ctx().executor();
        List<Map.Entry<String, StartPosition>> found = new ArrayList<>();
        SseSink[] started = new SseSink[1];
        CompletableFuture<List<TopicFeed>> named = delivery.attachAllAsync(topics.exact());
        CompletableFuture<PatternFollow> follow = !topics.hasPatterns() ? CompletableFuture.completedFuture(null)
                : delivery.followAsync(topics.matchedByPatterns(), (topic, at) -> Handoff.execute(loop, () -> {
                    if (started[0] == null) {
                        found.add(Map.entry(topic, topics.startOf(topic, at)));
                    } else {
                        started[0].follow(topic, topics.startOf(topic, at));
                    }
                }));
        // After the listing's own hand-offs: its topics are told before the stream starts.
        CompletableFuture.allOf(named, follow).whenComplete((v, error) -> Handoff.execute(loop, () -> {
            List<TopicFeed> feeds = named.isCompletedExceptionally() ? List.of() : named.join();
            PatternFollow patterns = follow.isCompletedExceptionally() ? null : follow.join();
            if (error != null || !ex.ctx().channel().isActive()) {
                feeds.forEach(delivery::release);
                if (patterns != null) {
                    patterns.cancel();
                }
                if (error != null) {
                    ex.fail(error instanceof CompletionException c ? c.getCause() : error);
                }
                return;
            }
            SseSink sink = openStream(ex, SseFormat.TOPIC_ENVELOPE, true, patterns == null ? () -> {} : patterns::cancel);
            started[0] = sink;
            if (!sink.begin()) {
                feeds.forEach(delivery::release); // the connection is gone
                return;
            }
            sink.startTogether(() -> {
                for (TopicFeed feed : feeds) {
                    sink.subscribe(feed, topics.startOf(feed.name(), null));
                }
                for (Map.Entry<String, StartPosition> f : found) {
                    sink.follow(f.getKey(), f.getValue());
                }
            });
        }));
    }

    /**
     * {@code GET /v1/jobs/{id}/events}: the job's topic as {@code status}/{@code progress} events, starting with the
     * job's current state (or after {@code Last-Event-ID}); the stream ends after the terminal status.
     */
    public void streamJob(Exchange ex, Job job) {
        StartPosition from = startOf(ex.header("Last-Event-ID"), null, new StartPosition.AtOffset(job.version()));
        open(ex, JobService.topicOf(job.id()), from, SseFormat.JOB, null);
    }

    /**
     * The head is sent once the topic's feed is open: on a shared engine its opening waits on Redis off the loop
     * (the loop serves its other connections meanwhile), and {@code from=next} means after the head.
     *
     * @param subject who is present on the topic while the stream lasts; null: no presence (a job's events)
     */
    private void open(Exchange ex, String topicName, StartPosition from, SseFormat format, String subject) {
        CompletableFuture<TopicFeed> attaching = delivery.attachAsync(topicName);
        if (attaching.isDone() && !attaching.isCompletedExceptionally()) {
            start(ex, attaching.join(), from, format, subject); // the embedded engine, or a feed open already
            return;
        }
        EventExecutor loop = ex.ctx().executor();
        attaching.whenComplete((topic, error) -> Handoff.execute(loop, () -> {
            if (error != null) {
                ex.fail(error instanceof CompletionException c ? c.getCause() : error);
            } else if (!ex.ctx().channel().isActive()) {
                delivery.release(topic);
            } else {
                start(ex, topic, from, format, subject);
            }
        }));
    }

    private void start(Exchange ex, TopicFeed topic, StartPosition from, SseFormat format, String subject) {
        SseSink sink = openStream(ex, format, false, subject == null ? () -> {} : presenceOf(topic.name(), subject));
        sink.start(delivery.subscribe(topic, from, sink));
    }

    /** Sends the stream's head and adds its sink, not started yet. */
    private SseSink openStream(Exchange ex, SseFormat format, boolean many, Runnable leave) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
                .set("X-Accel-Buffering", "no");
        ConnectionStats.of(ex.ctx().channel()).use(Transport.SSE); // the stream's head is SSE traffic too
        ex.stream(head);
        if (ex.request() instanceof HeldRequest held && held.prelude().length > 0) {
            ex.ctx().write(new DefaultHttpContent(Unpooled.wrappedBuffer(held.prelude()))); // the upstream's part first
        }
        SseSink sink = new SseSink(delivery, format, many, heartbeat, slowConsumerTimeout, ex.grants().validUntil(),
                leave);
        ex.ctx().pipeline().addLast(sink);
        return sink;
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
