package dev.switchboard.codec.sse;

import dev.switchboard.broker.Message;
import dev.switchboard.codec.BurstWriter;
import dev.switchboard.codec.http.StreamBody;
import dev.switchboard.fanout.Delivery;
import dev.switchboard.fanout.DeliverySink;
import dev.switchboard.fanout.SlowConsumerGuard;
import dev.switchboard.fanout.Subscription;
import dev.switchboard.fanout.TopicFeed;
import dev.switchboard.xray.ConnectionStats;
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
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One SSE stream: the push end of a {@link Subscription}, writing the body of a streaming response. Each burst of
 * messages' shared, pre-encoded event bytes goes out as one {@link HttpContent} (see {@link BurstWriter}); a
 * heartbeat comment is sent when nothing else was sent for a while; a reader that stays unwritable for the
 * slow-consumer timeout is closed (it reconnects with {@code Last-Event-ID} and resumes from the log). A stream that
 * ends (a job's terminal status, a deleted topic, the caller's token expiring) ends its response with
 * {@link LastHttpContent} and then closes.
 */
final class SseSink extends StreamBody implements DeliverySink {
    private final Delivery delivery;
    private final TopicFeed topic;
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
    private Subscription subscription;
    /** Takes this stream's subscription out of its connection's view (an HTTP/2 connection outlives the stream). */
    private Runnable unlist = () -> {};
    private ScheduledFuture<?> heartbeatTimer;
    private ScheduledFuture<?> expiryTimer;
    private SlowConsumerGuard slowGuard;
    private boolean wroteSinceHeartbeat;
    private boolean released;

    SseSink(Delivery delivery, TopicFeed topic, SseFormat format, Duration heartbeat, Duration slowConsumerTimeout,
            Instant validUntil, Runnable leave) {
        this.validUntil = validUntil;
        this.leave = leave;
        this.delivery = delivery;
        this.topic = topic;
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

    void start(Subscription s) {
        subscription = s;
        unlist = stats.subscriptions(() -> List.of(new ConnectionStats.SubscriptionView(topic.name(), s.next(),
                topic.lastOffset())));
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
            return;
        }
        s.start();
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
        burst.append(format.event(message));
        stats.messagesOut(1);
        wroteSinceHeartbeat = true;
        if (format.endsStream(message)) {
            subscription.close();
            burst.writePending();
            end();
        }
    }

    @Override
    public void gap(String topicName, long from, long first) {
        burst.writePending();
        ctx.write(content(SseEvents.gap(topicName, from, first)));
    }

    @Override
    public void topicDeleted(String topicName) {
        burst.writePending();
        ctx.write(content(SseEvents.topicDeleted(topicName)));
        end();
    }

    private void tokenExpired() {
        subscription.close();
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
        if (ctx.channel().isWritable() && subscription != null) {
            subscription.drain();
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
            if (subscription != null) {
                subscription.close();
            }
            delivery.release(topic);
        }
    }

    private void cancelHeartbeat() {
        if (heartbeatTimer != null) {
            heartbeatTimer.cancel(false);
            heartbeatTimer = null;
        }
    }
}
