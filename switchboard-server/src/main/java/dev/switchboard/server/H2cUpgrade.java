package dev.switchboard.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import java.util.Collection;

/**
 * {@code Upgrade: h2c} on a clear-text HTTP/1.1 connection (RFC 7540 3.2): Netty's upgrade to HTTP/2, and the
 * connection's HTTP/1.1 request handlers taken out, since its requests now arrive on stream channels (the upgrading
 * request itself as stream 1), whose answer waits for the client's connection preface ({@link H2cPrefaceWait}).
 */
final class H2cUpgrade implements HttpServerUpgradeHandler.UpgradeCodec {
    private final ConnectionPipeline pipeline;
    private final Http2Streams streams;
    private final Http2ServerUpgradeCodec upgrade;

    H2cUpgrade(ConnectionPipeline pipeline) {
        this.pipeline = pipeline;
        this.streams = new Http2Streams(pipeline.idleTimeout());
        this.upgrade = new Http2ServerUpgradeCodec(pipeline.http2Codec(), pipeline.multiplexer(streams));
    }

    @Override
    public Collection<CharSequence> requiredUpgradeHeaders() {
        return upgrade.requiredUpgradeHeaders();
    }

    @Override
    public boolean prepareUpgradeResponse(ChannelHandlerContext ctx, FullHttpRequest upgradeRequest,
                                          HttpHeaders upgradeHeaders) {
        return upgrade.prepareUpgradeResponse(ctx, upgradeRequest, upgradeHeaders);
    }

    @Override
    public void upgradeTo(ChannelHandlerContext ctx, FullHttpRequest upgradeRequest) {
        ConnectionPipeline.removeRequestHandlers(ctx.pipeline());
        upgrade.upgradeTo(ctx, upgradeRequest);
        ctx.pipeline().addAfter(ctx.name(), "h2c-preface", new H2cPrefaceWait()); // before the HTTP/2 codec
        pipeline.becameHttp2(ctx.pipeline(), streams);
    }
}
