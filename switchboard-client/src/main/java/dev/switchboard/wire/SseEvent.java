package dev.switchboard.wire;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One dispatched server-sent event, as a view over the parser's reused buffers: valid only during
 * {@link SseParser.Listener#onEvent}. The byte accessors let a hot path read fields without building strings;
 * callers must not change the arrays they return.
 */
public final class SseEvent {
    private static final String DEFAULT_TYPE = "message";

    final Bytes id = new Bytes(32);
    final Bytes type = new Bytes(32);
    final Bytes data = new Bytes(256);

    SseEvent() {
    }

    /** The last event ID of the stream: it carries over to events that have no {@code id:} line. */
    public String id() {
        return id.string();
    }

    /** The {@code event:} field, or {@code message} when the event had none. */
    public String type() {
        return type.length == 0 ? DEFAULT_TYPE : type.string();
    }

    /** The {@code data:} lines joined by {@code \n}. */
    public String data() {
        return data.string();
    }

    /** The ID's bytes in {@code [0, idLength())}. */
    public byte[] idArray() {
        return id.array;
    }

    public int idLength() {
        return id.length;
    }

    /** The data's bytes in {@code [0, dataLength())}. */
    public byte[] dataArray() {
        return data.array;
    }

    public int dataLength() {
        return data.length;
    }

    /** Compares the event type with an ASCII name, without building a string. */
    public boolean typeIs(String name) {
        if (type.length == 0) {
            return name.equals(DEFAULT_TYPE);
        }
        if (type.length != name.length()) {
            return false;
        }
        for (int i = 0; i < type.length; i++) {
            if (type.array[i] != name.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** A growable byte array, reused from event to event. */
    static final class Bytes {
        byte[] array;
        int length;

        Bytes(int capacity) {
            array = new byte[capacity];
        }

        void clear() {
            length = 0;
        }

        void append(byte[] src, int from, int count) {
            if (length + count > array.length) {
                array = Arrays.copyOf(array, Math.max(array.length * 2, length + count));
            }
            System.arraycopy(src, from, array, length, count);
            length += count;
        }

        void append(byte b) {
            if (length == array.length) {
                array = Arrays.copyOf(array, array.length * 2);
            }
            array[length++] = b;
        }

        String string() {
            return new String(array, 0, length, StandardCharsets.UTF_8);
        }
    }
}
