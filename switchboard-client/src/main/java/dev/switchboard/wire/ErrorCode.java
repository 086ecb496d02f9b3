package dev.switchboard.wire;

import java.util.Locale;

/**
 * The stable machine-readable codes of the error shape {@code {"error":{"code","message"}}}. Each names what was
 * wrong, not how a transport reports it: the server's HTTP layer maps every code to its status, a WebSocket reply
 * carries the code alone, and a client branches on it.
 */
public enum ErrorCode {
    // The request is malformed.
    INVALID_TOPIC, INVALID_FROM, INVALID_LIMIT, INVALID_DURATION, INVALID_JSON, INVALID_TYPE,
    INVALID_IDEMPOTENCY_KEY, INVALID_RETENTION, INVALID_QUERY, INVALID_URI, INVALID_UPGRADE, INVALID_OP,
    INVALID_QUEUE, INVALID_VERSION, INVALID_PROGRESS, INVALID_ERROR, MISSING_LEASE_TOKEN, INVALID_GROUP,
    INVALID_HEADERS,
    // What the request names does not exist.
    NOT_FOUND, TOPIC_NOT_FOUND, JOB_NOT_FOUND, QUEUE_NOT_FOUND, NOT_SUBSCRIBED, GROUP_NOT_FOUND,
    // Who is calling: no valid token (401), or a token that does not allow this (403).
    UNAUTHORIZED, TOKEN_EXPIRED, FORBIDDEN,
    // A browser page or a Host name this server does not answer to (403).
    ORIGIN_NOT_ALLOWED, HOST_NOT_ALLOWED,
    // The request is well formed but not allowed here or now.
    RESERVED_TOPIC, METHOD_NOT_ALLOWED, JOB_FINISHED, JOB_NOT_SUCCEEDED, LEASE_EXPIRED, LEASE_LOST,
    // Sizes and counts.
    PAYLOAD_TOO_LARGE, LIMIT_EXCEEDED,
    // The server cannot do it now; retrying later may work.
    UNAVAILABLE, TIMEOUT,
    // A fault of the server's own.
    INTERNAL;

    private final String wire = name().toLowerCase(Locale.ROOT);

    /** The code as it appears on the wire, e.g. {@code invalid_topic}. */
    public String wire() {
        return wire;
    }

    /** The code for a wire name, or {@code null} for one this version does not know. */
    public static ErrorCode fromWire(String code) {
        for (ErrorCode c : values()) {
            if (c.wire.equals(code)) {
                return c;
            }
        }
        return null;
    }
}
