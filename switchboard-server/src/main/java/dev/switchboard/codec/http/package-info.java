/**
 * HTTP/1.1 on Netty's codec: one {@link dev.switchboard.codec.http.Exchange} per request, request timeouts, body
 * aggregation, error answers (each {@link dev.switchboard.wire.ErrorCode} mapped to its status), and the endpoints of
 * topics, jobs and operations.
 *
 * <p>Threads: each connection's handlers run on its event loop; answers computed elsewhere are handed back to it.
 */
package dev.switchboard.codec.http;
