/**
 * The wire vocabulary that the server and its clients share: durations, topic-name rules, error codes, payload rules
 * and an SSE parser. No dependency beyond the JDK and Jackson's streaming parser.
 *
 * <p>Threads: immutable values and stateless rules; an {@link dev.switchboard.wire.SseParser} belongs to one stream.
 */
package dev.switchboard.wire;
