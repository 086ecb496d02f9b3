package dev.switchboard.codec.nats;

/** One client operation of the NATS core protocol, as {@link NatsDecoder} reads it. */
public sealed interface NatsOp {
    /** {@code CONNECT {json}}: the options as sent, parsed by the session. */
    record Connect(String json) implements NatsOp {}

    /** {@code PUB} or {@code HPUB}; {@code headers} is null for a PUB, the header block as sent for an HPUB. */
    record Pub(String subject, String replyTo, byte[] headers, byte[] payload) implements NatsOp {}

    /** {@code SUB subject [queue] sid}. */
    record Sub(String subject, String queue, String sid) implements NatsOp {}

    /** {@code UNSUB sid [max]}; {@code max} is 0 for at once. */
    record Unsub(String sid, long max) implements NatsOp {}

    record Ping() implements NatsOp {}

    record Pong() implements NatsOp {}

    /**
     * Input the decoder cannot read on from: the session answers {@code -ERR 'reason'} and closes, and the decoder
     * ignores everything after it.
     */
    record Malformed(String reason) implements NatsOp {}

    NatsOp PING = new Ping();
    NatsOp PONG = new Pong();
}
