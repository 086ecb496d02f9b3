package dev.switchboard.client;

import dev.switchboard.wire.ErrorCode;

/**
 * A failed operation. The server's refusals carry the API error code ({@link #code()}, and {@link #wireCode()} as
 * sent, which also covers codes this version does not know) and the HTTP status; subclasses group the codes by what
 * the caller can do about them. Failures to reach any server are {@link ConnectionException}s.
 */
public class SwitchboardException extends RuntimeException {
    private final String wireCode;
    private final int status;

    /**
     * @param wireCode the code as the server sent it, e.g. {@code invalid_topic}
     * @param status the HTTP status of the refusal; 0 when it came inside a stream or a WebSocket
     */
    public SwitchboardException(String wireCode, int status, String message, Throwable cause) {
        super(message, cause);
        this.wireCode = wireCode;
        this.status = status;
    }

    /** The API error code; null when the server sent one this version does not know (see {@link #wireCode()}). */
    public ErrorCode code() {
        return wireCode == null ? null : ErrorCode.fromWire(wireCode);
    }

    /** The error code as the server sent it. */
    public String wireCode() {
        return wireCode;
    }

    /** The HTTP status of the refusal; 0 when it did not come as an HTTP answer. */
    public int status() {
        return status;
    }

    /** Whether trying again later may succeed. */
    public boolean retryable() {
        return false;
    }
}
