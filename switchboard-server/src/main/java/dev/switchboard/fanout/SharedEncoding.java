package dev.switchboard.fanout;

import dev.switchboard.broker.Message;

/**
 * A wire form in which every sink using it writes a message as the same bytes (a WebSocket message frame, an SSE
 * event of a one-topic stream). Sinks that share one can be handed a run of messages built once for all of them
 * ({@link SharedRuns}); the instance is the key, so each wire form has exactly one.
 */
public interface SharedEncoding {
    /** The message's bytes in this form, the same array for every caller (cached on the message). */
    byte[] bytes(Message m);
}
