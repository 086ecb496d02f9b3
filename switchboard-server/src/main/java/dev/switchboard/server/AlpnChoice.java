package dev.switchboard.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After the TLS handshake: HTTP/2 when the client chose {@code h2} by ALPN, else HTTP/1.1 (a client that sent no
 * ALPN, curl with {@code --http1.1}, or a server with {@code --http2 off}). No h2c upgrade over TLS: ALPN is the way.
 */
final class AlpnChoice extends ApplicationProtocolNegotiationHandler {
    private static final Logger log = LoggerFactory.getLogger(AlpnChoice.class);
    private final ConnectionPipeline pipeline;

    AlpnChoice(ConnectionPipeline pipeline) {
        super(ApplicationProtocolNames.HTTP_1_1);
        this.pipeline = pipeline;
    }

    @Override
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
        if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
            pipeline.startHttp2(ctx.pipeline(), ctx.name());
        } else {
            pipeline.startHttp1(ctx.pipeline(), ctx.name(), false);
        }
    }

    /** A client that does not trust the certificate, or speaks no common version: its failure, not the server's. */
    @Override
    protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
