package dev.switchboard.codec.proxy;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2StreamChannel;

/**
 * Turns the reading of one side of a proxied exchange on and off, as the other side's writability asks.
 *
 * <p>An HTTP/2 stream needs a flush after it is turned back on. Its flow-control window goes back to the client only
 * as the stream channel is read: {@code setAutoRead(true)} calls {@code read()}, which writes the WINDOW_UPDATE for
 * what the stream took in while paused. Netty's stream channel (4.2, {@code AbstractHttp2StreamChannel.beginRead})
 * flushes that frame only when the read starts a read loop; when the channel is still marked as reading (a loop
 * that ended waiting for frames, or a read asked for during one), it only notes the read, and the frame stays in the
 * connection's outbound buffer, unflushed. Resumed from another channel's event (the upstream draining), outside the
 * connection's own read, nothing flushes it later: the client, its window spent, sends nothing more, so the
 * connection is not read again and the body stalls for good, one window (64 KiB) in. That was the stall of large
 * bodies from HTTP/2 streams, to TLS upstreams mostly, where the writability of the upstream flips most often
 * (SidecarHttp2BodyTest, SidecarTlsUpstreamTest). The flush sends the frame; within the connection's read it waits
 * for the read's end, which flushes.
 */
final class Reading {
    private Reading() {}

    /** Reads {@code ch} when {@code on}, else stops reading it (what is in flight still arrives). */
    static void set(Channel ch, boolean on) {
        if (ch.config().isAutoRead() == on) {
            return;
        }
        ch.config().setAutoRead(on);
        if (on && ch instanceof Http2StreamChannel) {
            ch.flush();
        }
    }
}
