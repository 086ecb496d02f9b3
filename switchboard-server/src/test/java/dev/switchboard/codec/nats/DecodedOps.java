package dev.switchboard.codec.nats;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** Runs input through a {@link NatsDecoder} in an {@link EmbeddedChannel}; each op rendered as comparable text. */
public final class DecodedOps {
    private DecodedOps() {}

    /** The ops read from {@code chunks}, fed one after the other as separate reads. */
    public static List<String> decode(int maxPayload, byte[]... chunks) {
        EmbeddedChannel ch = new EmbeddedChannel(new NatsDecoder(NatsEndpoint.MAX_CONTROL_LINE, maxPayload));
        try {
            for (byte[] chunk : chunks) {
                ch.writeInbound(Unpooled.wrappedBuffer(chunk));
            }
            List<String> ops = new ArrayList<>();
            for (Object o; (o = ch.readInbound()) != null; ) {
                ops.add(render((NatsOp) o));
            }
            return ops;
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    static String render(NatsOp op) {
        HexFormat hex = HexFormat.of();
        return switch (op) {
            case NatsOp.Connect c -> "Connect " + c.json();
            case NatsOp.Pub p -> "Pub " + p.subject() + " " + p.replyTo() + " "
                    + (p.headers() == null ? "null" : hex.formatHex(p.headers())) + " " + hex.formatHex(p.payload());
            case NatsOp.Sub s -> "Sub " + s.subject() + " " + s.queue() + " " + s.sid();
            case NatsOp.Unsub u -> "Unsub " + u.sid() + " " + u.max();
            case NatsOp.Ping p -> "Ping";
            case NatsOp.Pong p -> "Pong";
            case NatsOp.Malformed m -> "Malformed " + m.reason();
        };
    }
}
