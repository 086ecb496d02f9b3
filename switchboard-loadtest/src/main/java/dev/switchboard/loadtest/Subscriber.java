package dev.switchboard.loadtest;

import dev.switchboard.loadtest.Measurements.ErrorKind;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.SimpleChannelInboundHandler;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * One subscriber connection, whatever its transport. Lifecycle: {@link #connect} opens the channel and the
 * transport subscribes; {@link #ready} completes once the server has accepted the subscription (or fails);
 * each message goes through {@link #delivered}; {@link #close} ends it. Any close the benchmark did not ask
 * for is counted as a failure, unless the subscriber {@linkplain #closeExpected expects one}.
 */
abstract class Subscriber<I> extends SimpleChannelInboundHandler<I> {
    protected final Measurements measurements;
    /** One check per source of offsets: the server's log (one), or each publisher when the peer has no log. */
    private final OffsetCheck[] offsets;
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private Measurements.LoopStats stats;
    private volatile Channel channel;
    private String closeReason = "server closed a subscriber connection";
    private boolean failed;
    /** When the read being handled reached this handler: the arrival time of every message in it. */
    private long readNanos;
    /** Messages this subscriber received; read once the event loops have stopped. */
    private long received;

    Subscriber(Class<I> inboundType, Measurements measurements) {
        this(inboundType, measurements, 1);
    }

    /** @param sources publishers numbering their own messages, or 1 when the server assigns offsets */
    Subscriber(Class<I> inboundType, Measurements measurements, int sources) {
        super(inboundType);
        this.measurements = measurements;
        this.offsets = new OffsetCheck[sources];
        for (int i = 0; i < sources; i++) {
            offsets[i] = new OffsetCheck();
        }
    }

    /** Adds the transport's codecs, then this handler, to a new channel. */
    protected abstract void initPipeline(ChannelPipeline pipeline);

    /** Ends the subscription the way the transport expects, then closes the connection. */
    protected abstract ChannelFuture closeGracefully(Channel channel);

    final CompletableFuture<Void> ready() {
        return ready;
    }

    /** The check of one source, see the constructor. */
    final OffsetCheck offsets(int source) {
        return offsets[source];
    }

    final void connect(Bootstrap bootstrap, ServerEndpoint server) {
        bootstrap.clone()
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        initPipeline(ch.pipeline());
                    }
                })
                .connect(server.address())
                .addListener((ChannelFuture f) -> {
                    if (f.isSuccess()) {
                        channel = f.channel();
                    } else {
                        ready.completeExceptionally(new IOException(
                                "cannot connect to " + server + ": " + f.cause().getMessage(), f.cause()));
                    }
                });
    }

    /** Closes the connection; completes at once if it never opened. */
    final CompletableFuture<Void> close() {
        Channel ch = channel;
        CompletableFuture<Void> closed = new CompletableFuture<>();
        if (ch == null || !ch.isActive()) {
            closed.complete(null);
        } else {
            closeGracefully(ch).addListener(f -> closed.complete(null));
        }
        return closed;
    }

    protected final void subscribed() {
        ready.complete(null);
    }

    protected final void refused(Throwable cause) {
        ready.completeExceptionally(cause);
    }

    /** Explains a close the server is about to make, for the error report. */
    protected final void closingBecause(String reason) {
        closeReason = reason;
    }

    protected final void delivered(long offset, long sentNanos) {
        delivered(0, offset, sentNanos);
    }

    /** A message numbered {@code offset} by {@code source}; an unknown source is a protocol error. */
    final void delivered(int source, long offset, long sentNanos) {
        if (source < 0 || source >= offsets.length) {
            measurements.error(ErrorKind.PROTOCOL, "message from unknown publisher " + source);
            return;
        }
        offsets[source].accept(offset);
        received++;
        stats.delivered(sentNanos, readNanos);
    }

    /** Messages received; call once the event loops have stopped. */
    final long received() {
        return received;
    }

    /** Whether the server may close this connection without that being an error (a reader made to stall). */
    protected boolean closeExpected() {
        return false;
    }

    /**
     * One clock read per read, not per message: a read of many SSE events would otherwise read it per event. The
     * read's deliveries reach the shared count once, at its end.
     */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        readNanos = System.nanoTime();
        try {
            super.channelRead(ctx, msg);
        } finally {
            stats.flushDelivered();
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        stats = measurements.forCurrentThread();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (!ready.isDone()) {
            ready.completeExceptionally(new IOException("server closed the connection before the subscription"));
        } else if (!measurements.closing() && !failed && !closeExpected()) {
            measurements.error(ErrorKind.DISCONNECT, closeReason);
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!ready.completeExceptionally(cause) && !measurements.closing() && !failed && !closeExpected()) {
            measurements.error(ErrorKind.PROTOCOL, String.valueOf(cause));
        }
        failed = true;
        ctx.close();
    }
}
