package dev.switchboard.codec.http;

import dev.switchboard.wire.ErrorCode;
import io.netty.handler.codec.http.HttpResponseStatus;

/** The HTTP status of each error code (docs/api.md). Every code has one, checked by the compiler. */
public final class HttpStatuses {
    private HttpStatuses() {}

    public static HttpResponseStatus of(ErrorCode code) {
        return switch (code) {
            case INVALID_TOPIC, INVALID_FROM, INVALID_LIMIT, INVALID_DURATION, INVALID_JSON, INVALID_TYPE,
                 INVALID_IDEMPOTENCY_KEY, INVALID_RETENTION, INVALID_QUERY, INVALID_URI, INVALID_UPGRADE, INVALID_OP,
                 INVALID_QUEUE, INVALID_VERSION, INVALID_PROGRESS, INVALID_ERROR, MISSING_LEASE_TOKEN, INVALID_GROUP,
                 INVALID_HEADERS ->
                    HttpResponseStatus.BAD_REQUEST;
            case NOT_FOUND, TOPIC_NOT_FOUND, JOB_NOT_FOUND, QUEUE_NOT_FOUND, NOT_SUBSCRIBED, GROUP_NOT_FOUND ->
                    HttpResponseStatus.NOT_FOUND;
            case UNAUTHORIZED, TOKEN_EXPIRED -> HttpResponseStatus.UNAUTHORIZED;
            case FORBIDDEN, ORIGIN_NOT_ALLOWED, HOST_NOT_ALLOWED, RESERVED_TOPIC -> HttpResponseStatus.FORBIDDEN;
            case METHOD_NOT_ALLOWED -> HttpResponseStatus.METHOD_NOT_ALLOWED;
            case JOB_FINISHED, JOB_NOT_SUCCEEDED, LEASE_EXPIRED, LEASE_LOST -> HttpResponseStatus.CONFLICT;
            case PAYLOAD_TOO_LARGE -> HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE;
            case LIMIT_EXCEEDED -> HttpResponseStatus.TOO_MANY_REQUESTS;
            case UNAVAILABLE, TIMEOUT -> HttpResponseStatus.SERVICE_UNAVAILABLE;
            case INTERNAL -> HttpResponseStatus.INTERNAL_SERVER_ERROR;
        };
    }
}
