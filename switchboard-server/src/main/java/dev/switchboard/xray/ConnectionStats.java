package dev.switchboard.xray;

import dev.switchboard.wire.Payloads;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import javax.net.ssl.SSLSession;

/**
 * One connection's counters, kept by the first handler of its pipeline: bytes as they cross the socket's edge of the
 * pipeline, writability changes, and what the layers above report (the transport, messages, subscriptions). Every
 * write happens on the connection's event loop into plain fields; a scrape reads them racily, which is as exact as a
 * scrape taken a moment earlier or later. Layers above find it with {@link #of(Channel)}, from the connection or from
 * any of its HTTP/2 streams: the streams of one connection share its counters (and its event loop).
 */
public final class ConnectionStats extends ChannelDuplexHandler {
    private static final AttributeKey<ConnectionStats> KEY = AttributeKey.valueOf("switchboard.xray");
    static final int BYTES_IN = 0;
    static final int BYTES_OUT = 1;
    static final int MESSAGES_IN = 2;
    static final int MESSAGES_OUT = 3;
    static final int COUNTS = 4;

    /** What a connection is subscribed to and how far its cursor is behind the topic's newest message. */
    public interface SubscriptionSource {
        /** On the connection's loop. */
        List<SubscriptionView> subscriptions();

        /**
         * Adds each subscription's lag to {@code sumAndMax} ({sum, max}); on the connection's loop. The lag watcher
         * calls this every second for every connection, so a source that idle connections hold by the thousand
         * overrides it to allocate nothing (the views cost ~150 B per connection per second otherwise).
         */
        default void addLag(long[] sumAndMax) {
            for (SubscriptionView s : subscriptions()) {
                SubscriptionView.addLag(sumAndMax, s.lag());
            }
        }
    }

    /** @param next the next offset the connection will be sent; @param lastOffset the topic's newest offset */
    public record SubscriptionView(String topic, long next, long lastOffset) {
        /** Messages stored but not yet sent to this connection. */
        public long lag() {
            return lag(next, lastOffset);
        }

        public static long lag(long next, long lastOffset) {
            return Math.max(0, lastOffset - next + 1);
        }

        public static void addLag(long[] sumAndMax, long lag) {
            sumAndMax[0] += lag;
            sumAndMax[1] = Math.max(sumAndMax[1], lag);
        }
    }

    private final ConnectionRegistry registry;
    private final StageTimer stages;
    private final long id;
    private final long sinceMillis = System.currentTimeMillis();
    private Channel channel;
    private ChannelHandlerContext ctx;
    /** Volatile for scrapes; written on the loop only. */
    private volatile Transport transport = Transport.HTTP;
    final long[] counts = new long[COUNTS];
    /** The loop's running totals per transport ({@link ConnectionRegistry#tallyOf}); null outside a server. */
    private long[] tally;
    private long unwritableCount;
    private long unwritableSinceNanos;
    private int stageTick;
    private long readMarkNanos;
    /** One per push stream: an HTTP/2 connection carries several SSE streams. */
    private final List<SubscriptionSource> subscriptions = new ArrayList<>(1);
    /** {@code h1} or {@code h2}: volatile for scrapes; written on the loop only. */
    private volatile String protocol = "h1";
    private IntSupplier openStreams = () -> 0;

    ConnectionStats(ConnectionRegistry registry, StageTimer stages, long id) {
        this.registry = registry;
        this.stages = stages;
        this.id = id;
    }

    /**
     * The stats of a connection, or of the connection an HTTP/2 stream belongs to; one outside a server (a handler
     * test) gets stats that nobody lists.
     */
    public static ConnectionStats of(Channel ch) {
        ConnectionStats s = ch.attr(KEY).get();
        if (s == null && ch.parent() != null) {
            s = ch.parent().attr(KEY).get(); // a stream's parent is its connection; a connection's, the listener
        }
        if (s == null) {
            ConnectionStats detached = new ConnectionStats(null, StageTimer.OFF, 0);
            detached.channel = ch;
            s = ch.attr(KEY).setIfAbsent(detached);
            s = s == null ? detached : s;
        }
        return s;
    }

    public long id() {
        return id;
    }

    public Transport transport() {
        return transport;
    }

    Channel channel() {
        return channel;
    }

    public StageTimer stages() {
        return stages;
    }

    // ---- reported by the layers above, on the loop ----

    /** The connection now serves {@code t}; its traffic from here on counts for that transport. */
    public void use(Transport t) {
        Transport old = transport;
        if (old != t) {
            if (registry != null) {
                registry.transportChanged(this, old, t);
            }
            transport = t;
        }
    }

    public void messagesIn(int n) {
        count(MESSAGES_IN, n);
    }

    public void messagesOut(int n) {
        count(MESSAGES_OUT, n);
    }

    /** On the loop: the connection's own count and its loop's total for the transport it serves now. */
    private void count(int what, long n) {
        counts[what] += n;
        if (tally != null) {
            tally[transport.ordinal() * COUNTS + what] += n;
        }
    }

    /** Bytes written from {@link #edgeBelow}, which do not pass this handler's {@link #write}. */
    public void bytesOut(int n) {
        count(BYTES_OUT, n);
    }

    /**
     * This handler's context, from which writes go straight to the socket, when no handler between it and
     * {@code encoder} handles writes: bytes that are already the wire form may skip them all, if the writer counts
     * them ({@link #bytesOut}). Null otherwise (TLS between them, an HTTP/2 stream, a connection outside a server).
     */
    public ChannelHandlerContext edgeBelow(ChannelHandlerContext encoder) {
        if (ctx == null || ctx.pipeline() != encoder.pipeline()) {
            return null;
        }
        for (Map.Entry<String, ChannelHandler> h : ctx.pipeline()) {
            if (h.getValue() == encoder.handler()) {
                return ctx;
            }
            if (h.getValue() != this && h.getValue() instanceof ChannelOutboundHandler) {
                return null;
            }
        }
        return null;
    }

    /** Adds a push stream's subscriptions to the connection's; the returned action removes them again. */
    public Runnable subscriptions(SubscriptionSource source) {
        subscriptions.add(source);
        return () -> subscriptions.remove(source);
    }

    /**
     * Lists a held long poll's subscriptions while it is not done; the poll is a {@link Future}. Done polls leave the
     * list when the next one is listed or the loop next reads it, rather than through a completion callback per poll
     * (BENCHMARKS.md, "Held long polls: bytes per poll"); a done poll lists nothing meanwhile.
     */
    public void listWhileHeld(SubscriptionSource poll) {
        forgetDonePolls();
        subscriptions.add(poll);
    }

    private void forgetDonePolls() {
        subscriptions.removeIf(s -> s instanceof Future<?> poll && poll.isDone());
    }

    /** The connection speaks HTTP/2 now; {@code streams} counts its open streams (on its loop). */
    public void http2(IntSupplier streams) {
        protocol = "h2";
        openStreams = streams;
    }

    /** The connection's push was closed because its reader stayed unwritable too long. */
    public void closedAsSlow() {
        if (registry != null) {
            registry.slowConsumerClosed(transport);
        }
    }

    /**
     * Starts timing stages for this event if it is one of the sampled ones: the start ({@link System#nanoTime()}),
     * or 0 when it is not timed. A request that is timed also gets its read stage recorded here.
     */
    public long stageStart() {
        if (!stages.sampled(++stageTick)) {
            readMarkNanos = 0;
            return 0;
        }
        long now = System.nanoTime();
        if (readMarkNanos != 0) {
            stages.record(StageTimer.Stage.READ, readMarkNanos, now);
            readMarkNanos = 0;
        }
        return now;
    }

    // ---- the socket's edge of the pipeline ----

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        channel = ctx.channel();
        channel.attr(KEY).set(this);
        if (registry != null) {
            tally = registry.tallyOf(channel.eventLoop());
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        if (registry != null) {
            registry.opened(this);
        }
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (registry != null) {
            registry.closed(this);
        }
        super.channelInactive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof ByteBuf b) {
            count(BYTES_IN, b.readableBytes());
            if (readMarkNanos == 0 && stages.enabled()) {
                readMarkNanos = System.nanoTime();
            }
        }
        super.channelRead(ctx, msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (msg instanceof ByteBuf b) {
            count(BYTES_OUT, b.readableBytes());
        } else if (msg instanceof ByteBufHolder h) {
            count(BYTES_OUT, h.content().readableBytes());
        } else if (msg instanceof FileRegion f) {
            count(BYTES_OUT, f.count());
        }
        super.write(ctx, msg, promise);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (ctx.channel().isWritable()) {
            unwritableSinceNanos = 0;
        } else if (unwritableSinceNanos == 0) {
            unwritableCount++;
            unwritableSinceNanos = System.nanoTime();
        }
        super.channelWritabilityChanged(ctx);
    }

    // ---- snapshots ----

    /** Adds this connection's subscriptions' lag to {@code sumAndMax} ({sum, max}); on its loop. */
    void addLag(long[] sumAndMax) {
        forgetDonePolls();
        if (channel.isActive()) {
            for (int i = 0; i < subscriptions.size(); i++) {
                subscriptions.get(i).addLag(sumAndMax);
            }
        }
    }

    /** What the connection looks like now, from its own event loop; the kernel's queues are added later. */
    ConnectionView view() {
        ChannelOutboundBuffer out = channel.unsafe().outboundBuffer();
        long queued = out == null ? 0 : out.totalPendingWriteBytes();
        long unwritableMillis = unwritableSinceNanos == 0 ? 0
                : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - unwritableSinceNanos);
        List<ConnectionView.Subscription> subs = subscriptions.stream().flatMap(s -> s.subscriptions().stream())
                .map(s -> new ConnectionView.Subscription(s.topic(), s.next(), s.lag())).toList();
        return new ConnectionView(id, transport.wire(), protocol, tls(), openStreams.getAsInt(),
                address(channel.remoteAddress()), address(channel.localAddress()), Payloads.formatTime(sinceMillis),
                subs, counts[BYTES_IN], counts[BYTES_OUT], counts[MESSAGES_IN], counts[MESSAGES_OUT], queued,
                channel.isWritable(), unwritableCount, unwritableMillis, KernelView.read(channel));
    }

    /** The negotiated TLS version and cipher suite; null in clear text or before the handshake completed. */
    private ConnectionView.Tls tls() {
        SslHandler ssl = channel.pipeline().get(SslHandler.class);
        if (ssl == null || !ssl.handshakeFuture().isSuccess()) {
            return null;
        }
        SSLSession session = ssl.engine().getSession();
        return new ConnectionView.Tls(session.getProtocol(), session.getCipherSuite(),
                ssl.engine() instanceof ReferenceCountedOpenSslEngine ? "openssl" : "jdk");
    }

    static String address(SocketAddress a) {
        if (a instanceof InetSocketAddress i && i.getAddress() != null) {
            String host = i.getAddress().getHostAddress();
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + i.getPort();
        }
        return String.valueOf(a);
    }
}
