package dev.switchboard.codec.http;

import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;

/** A 405, with the methods the resource does take for the {@code Allow} header RFC 9110 (15.5.6) requires. */
public final class MethodNotAllowed extends ApiException {
    private final String allowed;

    /** @param allowed e.g. {@code "GET, POST"} */
    public MethodNotAllowed(String allowed) {
        super(ErrorCode.METHOD_NOT_ALLOWED, "method not allowed here; use " + allowed);
        this.allowed = allowed;
    }

    public String allowed() {
        return allowed;
    }
}
