package dev.switchboard.codec.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.switchboard.wire.Payloads;
import dev.switchboard.xray.ConnectionRegistry;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The body of {@code GET /v1/admin/stream}: an {@code event: snapshot} every interval, the x-ray's connections, the
 * topics and the stage timing in one JSON object. A snapshot is skipped, not queued, while the previous one is still
 * being taken or the viewer does not read (the connection is unwritable), so a slow dashboard costs nothing.
 *
 * <p>Threads: the connection's event loop; snapshots complete elsewhere and hand back to it.
 */
final class AdminStream extends StreamBody {
    private static final byte[] EVENT_HEAD = "event: snapshot\ndata: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] EVENT_END = {'\n', '\n'};

    private final ConnectionRegistry connections;
    private final Supplier<CompletableFuture<List<Map<String, Object>>>> topics;
    private final Duration interval;
    private final int limit;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> timer;
    private boolean taking;

    AdminStream(ConnectionRegistry connections, Supplier<CompletableFuture<List<Map<String, Object>>>> topics,
                Duration interval,
                int limit) {
        this.connections = connections;
        this.topics = topics;
        this.interval = interval;
        this.limit = limit;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        long every = interval.toNanos();
        timer = ctx.executor().scheduleAtFixedRate(this::tick, 0, every, TimeUnit.NANOSECONDS);
    }

    private void tick() {
        if (taking || !ctx.channel().isWritable()) {
            return;
        }
        if (!ctx.channel().isActive()) {
            stop();
            return;
        }
        taking = true;
        connections.snapshot(limit).thenCombine(topics.get(), Tick::new).whenComplete((tick, error) ->
                ctx.executor().execute(() -> send(tick, error)));
    }

    /** What one snapshot shows: the connections and the topics, both gathered off the loop. */
    private record Tick(ConnectionRegistry.Snapshot connections, List<Map<String, Object>> topics) {}

    private void send(Tick tick, Throwable error) {
        taking = false;
        if (error != null || !ctx.channel().isActive()) {
            return;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("time", Payloads.formatTime(System.currentTimeMillis()));
        body.put("engine", connections.engine());
        body.put("total", tick.connections().total());
        body.put("connections", tick.connections().connections());
        body.put("topics", tick.topics());
        body.put("stageSample", connections.stages().sampleEvery());
        body.put("stages", connections.stages().summary());
        try {
            byte[] json = HttpResponses.MAPPER.writeValueAsBytes(body); // one line: compact JSON
            ctx.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(EVENT_HEAD, json, EVENT_END)));
        } catch (JsonProcessingException e) {
            ctx.close();
        }
    }

    @Override
    protected void ended() {
        stop();
    }

    private void stop() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
