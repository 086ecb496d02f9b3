package dev.switchboard.bench;

import dev.switchboard.bench.Measurements.ErrorKind;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ScheduledFuture;

/**
 * Publishes over one keep-alive HTTP/1.1 connection with up to {@code inflight} requests pipelined: HTTP/1.1
 * answers pipelined requests in order, so a FIFO of send times pairs each {@code 201} with its request.
 * With a rate, message {@code n} is due at {@code start + n / rate} and a 1 ms tick sends whatever is due
 * (catching up in bursts if responses were slow); without one, every response frees a slot for the next
 * request. Each payload carries the {@code nanoTime()} taken just before its request is written.
 */
final class HttpPublisher extends SimpleChannelInboundHandler<FullHttpResponse> implements Publisher {
    private static final int MAX_RESPONSE_BYTES = 1024 * 1024;
    private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int MAX_ERROR_BODY = 200;

    private final Measurements measurements;
    private final ServerEndpoint server;
    private final String path;
    private final Payload payload;
    private final double messagesPerNano;
    private final long[] sendTimes;
    private final CompletableFuture<Void> done = new CompletableFuture<>();

    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> ticker;
    private long startNanos;
    private long stopNanos;
    private int oldest;
    private int inflight;
    private long sent;
    private long acked;
    private long measuredAcked;
    private long firstOffset = Long.MAX_VALUE;
    private long lastOffset = Long.MIN_VALUE;

    /** @param ratePerSecond this connection's share of the target rate; 0 = as fast as responses allow */
    HttpPublisher(Measurements measurements, ServerEndpoint server, String topic, Payload payload,
                  int inflight, double ratePerSecond) {
        this.measurements = measurements;
        this.server = server;
        this.path = server.publishPath(topic);
        this.payload = payload;
        this.sendTimes = new long[inflight];
        this.messagesPerNano = ratePerSecond / 1e9;
    }

    @Override
    public void initPipeline(ChannelPipeline pipeline) {
        pipeline.addLast(new HttpClientCodec(), new HttpObjectAggregator(MAX_RESPONSE_BYTES), this);
    }

    @Override
    public void start(long startNanos, long stopNanos) {
        ctx.executor().execute(() -> {
            this.startNanos = startNanos;
            this.stopNanos = stopNanos;
            ctx.executor().schedule(this::fill, stopNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (messagesPerNano > 0) {
                ticker = ctx.executor().scheduleAtFixedRate(this::fill, 0, TICK_NANOS, TimeUnit.NANOSECONDS);
            } else {
                fill();
            }
        });
    }

    /** Completes once publishing has stopped and every request has been answered (or failed). */
    @Override
    public CompletableFuture<Void> done() {
        return done;
    }

    /** Publishes answered with {@code 201}; read after {@link #done}. */
    @Override
    public long acked() {
        return acked;
    }

    /** Acked publishes sent after the warmup; read after {@link #done}. */
    @Override
    public long measuredAcked() {
        return measuredAcked;
    }

    @Override
    public long firstOffset() {
        return firstOffset;
    }

    @Override
    public long lastOffset() {
        return lastOffset;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    private void fill() {
        if (done.isDone() || stopNanos == 0) {
            return;
        }
        long now = System.nanoTime();
        if (now >= stopNanos) {
            if (ticker != null) {
                ticker.cancel(false);
            }
            if (inflight == 0) {
                done.complete(null);
            }
            return;
        }
        long due = messagesPerNano > 0 ? (long) ((now - startNanos) * messagesPerNano) + 1 : Long.MAX_VALUE;
        boolean wrote = false;
        while (inflight < sendTimes.length && sent < due) {
            send();
            wrote = true;
        }
        if (wrote) {
            ctx.flush();
        }
    }

    private void send() {
        long now = System.nanoTime();
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path,
                payload.encode(ctx.alloc(), now));
        request.headers()
                .set(HttpHeaderNames.HOST, server.host())
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, request.content().readableBytes());
        sendTimes[(oldest + inflight) % sendTimes.length] = now;
        inflight++;
        sent++;
        ctx.write(request, ctx.voidPromise());
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
        if (inflight == 0) {
            measurements.error(ErrorKind.PUBLISH, "response without a request: " + response.status());
            return;
        }
        long sentAt = sendTimes[oldest];
        oldest = (oldest + 1) % sendTimes.length;
        inflight--;
        if (response.status().equals(HttpResponseStatus.CREATED)) {
            onCreated(response, sentAt);
        } else {
            String body = response.content().toString(StandardCharsets.UTF_8);
            measurements.error(ErrorKind.PUBLISH, "POST " + path + " answered " + response.status() + " "
                    + body.substring(0, Math.min(body.length(), MAX_ERROR_BODY)));
        }
        fill();
    }

    private void onCreated(FullHttpResponse response, long sentAt) {
        long offset;
        try {
            offset = JsonFields.longValue(response.content(), "offset");
        } catch (NumberFormatException e) {
            measurements.error(ErrorKind.PUBLISH, "201 without an offset: " + e.getMessage());
            return;
        }
        acked++;
        measurements.published.increment();
        if (sentAt >= measurements.measureStartNanos()) {
            measuredAcked++;
        }
        firstOffset = Math.min(firstOffset, offset);
        lastOffset = Math.max(lastOffset, offset);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (!done.isDone() && !measurements.closing()) {
            measurements.error(ErrorKind.PUBLISH, "server closed the publisher connection with "
                    + inflight + " requests unanswered");
        }
        if (ticker != null) {
            ticker.cancel(false);
        }
        done.complete(null);
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        measurements.error(ErrorKind.PUBLISH, String.valueOf(cause));
        ctx.close();
    }
}
