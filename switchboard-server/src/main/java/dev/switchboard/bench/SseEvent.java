package dev.switchboard.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;

/**
 * One dispatched server-sent event, as a view over the parser's reused buffers: valid only during
 * {@link SseParser.Listener#onEvent}. The byte accessors let a hot path read fields without building strings;
 * callers must not change the buffers they return.
 */
public final class SseEvent {
    private static final String DEFAULT_TYPE = "message";

    final ByteBuf id = Unpooled.buffer(32);
    final ByteBuf type = Unpooled.buffer(32);
    final ByteBuf data = Unpooled.buffer(256);

    SseEvent() {
    }

    /** The last event ID of the stream: it carries over to events that have no {@code id:} line. */
    public String id() {
        return id.toString(StandardCharsets.UTF_8);
    }

    /** The {@code event:} field, or {@code message} when the event had none. */
    public String type() {
        return type.isReadable() ? type.toString(StandardCharsets.UTF_8) : DEFAULT_TYPE;
    }

    /** The {@code data:} lines joined by {@code \n}. */
    public String data() {
        return data.toString(StandardCharsets.UTF_8);
    }

    public ByteBuf idBytes() {
        return id;
    }

    public ByteBuf dataBytes() {
        return data;
    }

    /** Compares the event type with an ASCII name, without building a string. */
    public boolean typeIs(String name) {
        if (!type.isReadable()) {
            return name.equals(DEFAULT_TYPE);
        }
        return Ascii.regionMatches(type, type.readerIndex(), type.writerIndex(), name);
    }
}
