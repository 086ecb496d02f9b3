/**
 * Wire forms shared by the transports: the message envelope (JSON) and the burst writer that copies a subscriber's
 * burst of pre-encoded frames into pooled buffers.
 *
 * <p>Threads: stateless, or owned by one connection's event loop.
 */
package dev.switchboard.codec;
