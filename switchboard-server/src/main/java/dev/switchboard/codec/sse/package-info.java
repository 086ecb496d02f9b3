/**
 * Server-Sent Events: a topic or a job as an event stream, each message's event bytes encoded once and shared by
 * every stream.
 *
 * <p>Threads: each stream runs on its connection's event loop.
 */
package dev.switchboard.codec.sse;
