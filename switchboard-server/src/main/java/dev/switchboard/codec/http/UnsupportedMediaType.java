package dev.switchboard.codec.http;

import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;

/**
 * A 415: the body's content type is not one the endpoint reads. Its code stays {@code invalid_type}, the API's code
 * for a content type it refuses (elsewhere a 400); the status and the {@code Accept-Post} header listing the types the
 * endpoint does read tell HTTP clients the rest.
 */
public final class UnsupportedMediaType extends ApiException {
    private final String accepted;

    /** @param accepted e.g. {@code "application/x-ndjson, application/json"} */
    public UnsupportedMediaType(String accepted, String message) {
        super(ErrorCode.INVALID_TYPE, message);
        this.accepted = accepted;
    }

    public String accepted() {
        return accepted;
    }
}
