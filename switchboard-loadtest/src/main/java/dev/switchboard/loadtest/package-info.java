/**
 * The load tool ({@code switchboard bench}): Netty clients for Switchboard (HTTP, SSE, WebSocket), Redis (RESP) and
 * NATS, HdrHistogram latencies, and the report that writes BENCHMARKS.md.
 *
 * <p>Threads: publishers and subscribers on their own event loops; results gathered on the main thread.
 */
package dev.switchboard.loadtest;
