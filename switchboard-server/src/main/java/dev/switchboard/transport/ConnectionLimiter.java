package dev.switchboard.transport;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * Counts open connections, in all and per remote address, and marks those past a limit as refused: the layer above
 * answers their request with an error (503 or 429, with {@code Retry-After}) and closes, instead of leaving the
 * client a bare reset, and still serves health checks and metrics on them, so an operator can see a full server.
 * {@link #HEADROOM} connections past {@code --max-connections} are kept for that; past those a new connection is
 * closed at once, before it costs more than a socket.
 */
@ChannelHandler.Sharable
public final class ConnectionLimiter extends ChannelInboundHandlerAdapter {
    /** Connections past the limit that are still answered (with a refusal, or health and metrics). */
    public static final int HEADROOM = 64;

    /** Why a connection is refused. */
    public enum Refusal { CAPACITY, ADDRESS }

    private final int max;
    private final int perAddress;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, AtomicInteger> byAddress = new ConcurrentHashMap<>();
    private final Counter refusedForCapacity;
    private final Counter refusedForAddress;
    private final BiConsumer<Channel, Refusal> onRefused;

    /**
     * @param perAddress connections one remote address may hold (0: no limit)
     * @param onRefused  called on the connection's loop for a connection that is to be answered with a refusal
     */
    public ConnectionLimiter(int max, int perAddress, MeterRegistry metrics, BiConsumer<Channel, Refusal> onRefused) {
        this.max = max;
        this.perAddress = perAddress;
        this.onRefused = onRefused;
        this.refusedForCapacity = refused(metrics, "capacity");
        this.refusedForAddress = refused(metrics, "address");
    }

    private static Counter refused(MeterRegistry metrics, String reason) {
        return Counter.builder("switchboard.connections.refused").tag("reason", reason)
                .description("Connections refused: past --max-connections (capacity) or the per-address limit")
                .register(metrics);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        int total = open.incrementAndGet();
        int fromAddress = perAddress > 0 ? byAddress.computeIfAbsent(address(ctx.channel()), a -> new AtomicInteger())
                .incrementAndGet() : 0;
        if (total > max + HEADROOM) {
            refusedForCapacity.increment();
            ctx.close();
            return;
        }
        if (total > max) {
            refusedForCapacity.increment();
            onRefused.accept(ctx.channel(), Refusal.CAPACITY);
        } else if (perAddress > 0 && fromAddress > perAddress) {
            refusedForAddress.increment();
            onRefused.accept(ctx.channel(), Refusal.ADDRESS);
        }
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        open.decrementAndGet();
        if (perAddress > 0) {
            byAddress.computeIfPresent(address(ctx.channel()), (a, n) -> n.decrementAndGet() == 0 ? null : n);
        }
        super.channelInactive(ctx);
    }

    private static InetAddress address(Channel ch) {
        return ch.remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : InetAddress.getLoopbackAddress();
    }

    public int open() {
        return open.get();
    }
}
