package dev.switchboard.server;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http2.Http2CodecUtil;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * In front of the h2c upgrade handler of a clear-text HTTP/1.1 connection. Declines {@code Upgrade: h2c} on a request
 * whose body may be larger than an upgrade can hold, which then goes on as HTTP/1.1 (RFC 9110 7.8: a server may ignore
 * an upgrade). Upgrading needs the whole request in memory first, up to {@code --max-message-bytes}: a larger body,
 * such as a proxied upload in sidecar mode from the JDK's HttpClient (which offers h2c on its first request), was
 * refused with 413. A chunked body, of unknown size, is declined too; a request without a body or with a small one
 * upgrades as before.
 *
 * <p>A request that does not ask for an upgrade takes the upgrade handler and this gate out: the connection stays
 * HTTP/1.1. Clients offer h2c on a connection's first request (curl, the JDK's client; RFC 7540 3.2 has the upgrade
 * start the connection's HTTP/2), and the two handlers were ~190 B of every kept-alive or held connection.
 */
@ChannelHandler.Sharable
final class H2cUpgradeGate extends ChannelInboundHandlerAdapter {
    private final long maxUpgradeBytes;

    H2cUpgradeGate(long maxUpgradeBytes) {
        this.maxUpgradeBytes = maxUpgradeBytes;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpRequest r)) {
            ctx.fireChannelRead(msg);
            leaveAfterUpgrade(ctx); // an upgrade happens on its request's last content
            return;
        }
        if (!r.headers().contains(HttpHeaderNames.UPGRADE)) {
            ChannelHandler upgrade = ctx.pipeline().get(HttpServerUpgradeHandler.class);
            if (upgrade != null) {
                ctx.pipeline().remove(upgrade);
            }
            ctx.pipeline().remove(this);
            ctx.fireChannelRead(msg);
            return;
        }
        if (tooLargeToUpgrade(r)) {
            HttpHeaders h = r.headers();
            h.remove(HttpHeaderNames.UPGRADE);
            h.remove(Http2CodecUtil.HTTP_UPGRADE_SETTINGS_HEADER);
            String connection = h.get(HttpHeaderNames.CONNECTION);
            if (connection != null) {
                String kept = Arrays.stream(connection.split(",")).map(String::trim)
                        .filter(t -> !t.equalsIgnoreCase("upgrade") && !t.toLowerCase(Locale.ROOT)
                                .equals(Http2CodecUtil.HTTP_UPGRADE_SETTINGS_HEADER.toString().toLowerCase(Locale.ROOT)))
                        .collect(Collectors.joining(", "));
                if (kept.isEmpty()) {
                    h.remove(HttpHeaderNames.CONNECTION);
                } else {
                    h.set(HttpHeaderNames.CONNECTION, kept);
                }
            }
        }
        ctx.fireChannelRead(msg);
        leaveAfterUpgrade(ctx);
    }

    /**
     * Once an upgrade took the connection (h2c, or WebSocket, whose handshake removes the upgrade handler) there is
     * nothing left to guard.
     */
    private void leaveAfterUpgrade(ChannelHandlerContext ctx) {
        if (!ctx.isRemoved() && ctx.pipeline().get(HttpServerUpgradeHandler.class) == null) {
            ctx.pipeline().remove(this);
        }
    }

    private boolean tooLargeToUpgrade(HttpRequest r) {
        return HttpUtil.isTransferEncodingChunked(r) || HttpUtil.getContentLength(r, 0L) > maxUpgradeBytes;
    }
}
