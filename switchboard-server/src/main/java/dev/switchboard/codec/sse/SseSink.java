package dev.switchboard.codec.sse;

import dev.switchboard.broker.Handoff;
import dev.switchboard.broker.Message;
import dev.switchboard.codec.BurstWriter;
import dev.switchboard.codec.http.StreamBody;
import dev.switchboard.fanout.Delivery;
import dev.switchboard.fanout.DeliverySink;
import dev.switchboard.fanout.SharedEncoding;
import dev.switchboard.fanout.SlowConsumerGuard;
import dev.switchboard.fanout.StartPosition;
import dev.switchboard.fanout.StreamCursor;
import dev.switchboard.fanout.Subscription;
import dev.switchboard.fanout.TopicFeed;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.xray.ConnectionStats;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * One SSE stream: the push end of a {@link Subscription}, or of one per topic for a stream over many topics, writing
 * the body of a streaming response. Each burst of
 * messages' shared, pre-encoded event bytes goes out as one {@link HttpContent} (see {@link BurstWriter}); a
 * heartbeat comment is sent when nothing else was sent for a while; a reader that stays unwritable for the
 * slow-consumer timeout is closed (it reconnects with {@code Last-Event-ID} and resumes from the log). A stream that
 * ends (a job's terminal status, a deleted topic, the caller's token expiring) ends its response with
 * {@link LastHttpContent} and then closes.
 *
 * <p>A stream over many topics ({@code GET /v1/events}) writes each event's {@code id} itself: the
 * {@link StreamCursor} of every topic's next offset after that event. A topic deleted there is told by an error event
 * naming it and followed again from offset 1 (the topic created again), and the stream goes on.
 */
final class SseSink extends StreamBody implements DeliverySink {
    /** The formats whose events are the same bytes in every stream (a job's stream may end on one, so it is not). */
    private static final SharedEncoding SHARED_TOPIC = SseFormat.TOPIC::event;
    private static final SharedEncoding SHARED_ENVELOPE = SseFormat.TOPIC_ENVELOPE::event;
    private final Delivery delivery;
    private final SseFormat format;
    private final Duration heartbeat;
    private final Duration slowConsumerTimeout;
    /** When the caller's token expires (null: never); the stream then ends with an error event {@code token_expired}. */
    private final Instant validUntil;
    /** Ends the caller's presence on the topic, once, with the stream. */
    private final Runnable leave;
    private ChannelHandlerContext ctx;
    private ConnectionStats stats;
    private BurstWriter burst;
    /** Every topic's subscription, by name: one, unless the stream reads many. */
    private final Map<String, Subscription> subscriptions = new HashMap<>();
    /** A stream over many topics: each topic's next offset, the cursor of its events; null for one topic. */
    private final SortedMap<String, Long> cursor;
    /** A stream over many topics: topics whose feed is opening, off the loop. */
    private final Set<String> opening = new HashSet<>();
    /** While {@link #startTogether} runs: the subscriptions made, to start once all exist. */
    private List<Subscription> startingTogether;
    /** Takes this stream's subscription out of its connection's view (an HTTP/2 connection outlives the stream). */
    private Runnable unlist = () -> {};
    private ScheduledFuture<?> heartbeatTimer;
    private ScheduledFuture<?> expiryTimer;
    private SlowConsumerGuard slowGuard;
    private boolean wroteSinceHeartbeat;
    private boolean released;

    /** @param many whether the stream reads many topics ({@link #follow}), each event's id then its cursor */
    SseSink(Delivery delivery, SseFormat format, boolean many, Duration heartbeat, Duration slowConsumerTimeout,
            Instant validUntil, Runnable leave) {
        this.validUntil = validUntil;
        this.leave = leave;
        this.delivery = delivery;
        this.cursor = many ? new TreeMap<>() : null;
        this.format = format;
        this.heartbeat = heartbeat;
        this.slowConsumerTimeout = slowConsumerTimeout;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        stats = ConnectionStats.of(ctx.channel());
        burst = new BurstWriter(ctx, DefaultHttpContent::new);
    }

    /** Starts a stream of one topic. */
    void start(Subscription s) {
        subscriptions.put(s.topic().name(), s); // released with the stream, even one that ends before it starts
        if (begin()) {
            s.start();
        }
    }

    /** Starts the stream; false when its connection is already gone (then it has cleaned up). */
    boolean begin() {
        unlist = stats.subscriptions(() -> subscriptions.values().stream().map(s -> new ConnectionStats
                .SubscriptionView(s.topic().name(), s.next(), s.topic().lastOffset())).toList());
        slowGuard = new SlowConsumerGuard(ctx.channel(), slowConsumerTimeout, () -> {
            stats.closedAsSlow();
            ctx.close();
        });
        long every = heartbeat.toNanos();
        heartbeatTimer = ctx.executor().scheduleAtFixedRate(this::heartbeat, every, every, TimeUnit.NANOSECONDS);
        if (validUntil != null) {
            long left = Duration.between(Instant.now(), validUntil).toNanos();
            expiryTimer = ctx.executor().schedule(this::tokenExpired, Math.max(0, left), TimeUnit.NANOSECONDS);
        }
        if (!ctx.channel().isActive()) {
            cleanUp();
            return false;
        }
        return true;
    }

    /**
     * A stream over many topics: follows one more from {@code from}, on the stream's loop. A topic already followed
     * is left as it is; one that would let the cursor outgrow its bound, or that the server cannot open, is told as
     * an error event naming it, and the stream goes on without it. While its feed opens (on a shared engine, off the
     * loop) the cursor holds its start when that is an offset.
     */
    void follow(String topic, StartPosition from) {
        if (released || subscriptions.containsKey(topic) || opening.contains(topic)) {
            return;
        }
        List<String> followed = new ArrayList<>(subscriptions.keySet());
        followed.addAll(opening);
        followed.add(topic);
        if (!StreamCursor.fits(followed)) {
            writeEvent(SseEvents.topicError(topic, ErrorCode.LIMIT_EXCEEDED.wire(), "not followed: the stream's"
                    + " cursor could grow past " + StreamCursor.MAX_CHARS + " characters with it"));
            return;
        }
        CompletableFuture<TopicFeed> attaching;
        try {
            attaching = delivery.attachAsync(topic);
        } catch (ApiException e) {
            refused(topic, e);
            return;
        }
        if (attaching.isDone() && !attaching.isCompletedExceptionally()) {
            subscribe(attaching.join(), from);
            return;
        }
        opening.add(topic);
        if (from instanceof StartPosition.AtOffset at) {
            cursor.put(topic, at.offset());
        }
        attaching.whenComplete((feed, error) -> Handoff.execute(ctx.executor(), () -> {
            opening.remove(topic);
            if (error != null) {
                if (!released) {
                    cursor.remove(topic);
                    refused(topic, error instanceof CompletionException c ? c.getCause() : error);
                }
            } else if (released) {
                delivery.release(feed);
            } else {
                subscribe(feed, from);
            }
        }));
    }

    /** A stream over many topics: reads an attached feed from {@code from} (the stream owns the attachment now). */
    void subscribe(TopicFeed feed, StartPosition from) {
        Subscription s = delivery.subscribe(feed, from, this);
        subscriptions.put(feed.name(), s);
        cursor.put(feed.name(), s.next());
        if (startingTogether != null) {
            startingTogether.add(s);
        } else {
            s.start();
        }
    }

    /**
     * A stream over many topics: runs {@code follows} and starts the subscriptions it makes only after all of them
     * exist, so that no event (a topic's messages in memory go out at once) carries a cursor without the others.
     */
    void startTogether(Runnable follows) {
        List<Subscription> made = new ArrayList<>();
        startingTogether = made;
        try {
            follows.run();
        } finally {
            startingTogether = null;
        }
        made.forEach(Subscription::start);
    }

    private void refused(String topic, Throwable error) {
        writeEvent(SseEvents.topicError(topic, error instanceof ApiException api ? api.code().wire()
                : ErrorCode.UNAVAILABLE.wire(), "not followed: " + error.getMessage()));
    }

    private void writeEvent(byte[] event) {
        burst.writePending();
        ctx.writeAndFlush(content(event));
    }

    private void heartbeat() {
        if (!wroteSinceHeartbeat && ctx.channel().isWritable()) {
            ctx.writeAndFlush(content(SseEvents.heartbeat()));
        }
        wroteSinceHeartbeat = false;
    }

    @Override
    public EventExecutor executor() {
        return ctx.executor();
    }

    @Override
    public String transport() {
        return "sse";
    }

    @Override
    public boolean isWritable() {
        return ctx.channel().isWritable();
    }

    @Override
    public void deliver(Message message) {
        byte[] event = format.event(message);
        if (cursor == null) {
            burst.append(event);
        } else {
            cursor.put(message.topic(), message.offset() + 1);
            burst.append(SseEvents.id(StreamCursor.encode(cursor)));
            burst.append(event, SseEvents.afterIdLine(event)); // the shared event, with the stream's id
        }
        stats.messagesOut(1);
        wroteSinceHeartbeat = true;
        if (format.endsStream(message)) {
            closeSubscriptions();
            burst.writePending();
            end();
        }
    }

    @Override
    public SharedEncoding sharedEncoding() {
        if (cursor != null) {
            return null; // each event carries this stream's own cursor
        }
        return format == SseFormat.TOPIC ? SHARED_TOPIC : format == SseFormat.TOPIC_ENVELOPE ? SHARED_ENVELOPE : null;
    }

    @Override
    public void deliverShared(ByteBuf bytes, int messages) {
        burst.appendShared(bytes);
        stats.messagesOut(messages);
        wroteSinceHeartbeat = true;
    }

    @Override
    public void gap(String topicName, long from, long first) {
        if (cursor != null) {
            cursor.put(topicName, first);
        }
        burst.writePending();
        ctx.write(content(SseEvents.gap(topicName, from, first)));
    }

    @Override
    public void topicDeleted(String topicName) {
        if (cursor != null) {
            Subscription ended = subscriptions.remove(topicName);
            cursor.remove(topicName);
            delivery.release(ended.topic());
            burst.writePending();
            ctx.write(content(SseEvents.topicError(topicName, "topic_deleted",
                    "topic '" + topicName + "' was deleted; followed again from offset 1")));
            follow(topicName, new StartPosition.AtOffset(1));
            return;
        }
        burst.writePending();
        ctx.write(content(SseEvents.topicDeleted(topicName)));
        end();
    }

    private void tokenExpired() {
        closeSubscriptions();
        burst.writePending();
        ctx.write(content(SseEvents.tokenExpired()));
        end();
    }

    private static HttpContent content(byte[] bytes) {
        return new DefaultHttpContent(Unpooled.wrappedBuffer(bytes));
    }

    /** Ends the response, then the connection (the stream was its last response). */
    private void end() {
        cancelHeartbeat();
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void flush() {
        burst.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        slowGuard.writabilityChanged();
        if (ctx.channel().isWritable()) {
            for (Subscription s : subscriptions.values().toArray(new Subscription[0])) {
                s.drain();
            }
        }
        super.channelWritabilityChanged(ctx);
    }

    @Override
    protected void ended() {
        cleanUp();
    }

    private void cleanUp() {
        burst.discard();
        cancelHeartbeat();
        if (expiryTimer != null) {
            expiryTimer.cancel(false);
        }
        if (slowGuard != null) {
            slowGuard.cancel();
        }
        if (!released) {
            released = true;
            unlist.run();
            leave.run();
            closeSubscriptions();
            for (Subscription s : subscriptions.values()) {
                delivery.release(s.topic());
            }
        }
    }

    private void closeSubscriptions() {
        for (Subscription s : subscriptions.values()) {
            s.close();
        }
    }

    private void cancelHeartbeat() {
        if (heartbeatTimer != null) {
            heartbeatTimer.cancel(false);
            heartbeatTimer = null;
        }
    }
}
