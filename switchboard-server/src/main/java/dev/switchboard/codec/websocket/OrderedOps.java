package dev.switchboard.codec.websocket;

/**
 * A connection whose ops are answered in the order sent: an op that waits for the engine off the event loop holds
 * the ops after it until it is answered.
 */
interface OrderedOps {
    /** Later ops wait (and reading pauses) until the matching {@link #releaseOps}. */
    void holdOps();

    /** The op that held the others is answered: those waiting run, in order. */
    void releaseOps();
}
