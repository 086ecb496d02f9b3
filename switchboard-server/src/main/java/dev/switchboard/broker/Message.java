package dev.switchboard.broker;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * One stored message: offset in its topic, time (UTC ms), content type, payload, headers (often none). Immutable, except for a small cache
 * of its wire encodings: each transport encodes a message once and every subscriber writes the same bytes
 * (docs/architecture.md, "Encode once"). The broker does not know the transports: each one takes a slot with
 * {@link #newEncodingSlot()} when its class loads.
 */
public final class Message {
    /** Four are taken (SSE payload, SSE envelope, a job's SSE event, WebSocket); one left for the next wire form. */
    private static final int SLOTS = 5;
    private static final AtomicInteger SLOTS_TAKEN = new AtomicInteger();
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Object[].class);

    private final String topic;
    private final long offset;
    private final long time;
    private final String type;
    private final byte[] payload;
    private final Map<String, List<String>> headers;
    private final Object[] encodings = new Object[SLOTS];

    public Message(String topic, long offset, long time, String type, byte[] payload) {
        this(topic, offset, time, type, payload, MessageHeaders.NONE);
    }

    /** @param headers name → values ({@link MessageHeaders}), the empty map for none */
    public Message(String topic, long offset, long time, String type, byte[] payload,
                   Map<String, List<String>> headers) {
        this.headers = headers;
        this.topic = topic;
        this.offset = offset;
        this.time = time;
        this.type = type;
        this.payload = payload;
    }

    public String topic() {
        return topic;
    }

    public long offset() {
        return offset;
    }

    public long time() {
        return time;
    }

    public String type() {
        return type;
    }

    /** The stored bytes; callers must not modify them. */
    public byte[] payload() {
        return payload;
    }

    /** Name → values, in the order published; empty when the message has none. */
    public Map<String, List<String>> headers() {
        return headers;
    }

    /** A slot of {@link #encoded} for one wire form; a transport takes one per form, once. */
    public static int newEncodingSlot() {
        int slot = SLOTS_TAKEN.getAndIncrement();
        if (slot >= SLOTS) {
            throw new IllegalStateException("more than " + SLOTS + " wire encodings");
        }
        return slot;
    }

    /**
     * This message's encoding in one wire form, computed on first use. Two threads racing may both compute it; both
     * results are equal and either may win, which costs less than a lock on the fan-out path.
     */
    @SuppressWarnings("unchecked")
    public <T> T encoded(int slot, Function<Message, T> encoder) {
        Object cached = SLOT.getAcquire(encodings, slot);
        if (cached == null) {
            cached = encoder.apply(this);
            SLOT.setRelease(encodings, slot, cached);
        }
        return (T) cached;
    }
}
