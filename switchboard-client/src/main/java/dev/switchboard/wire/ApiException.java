package dev.switchboard.wire;

/**
 * A refused request: an {@link ErrorCode} and a message for people. Thrown before anything is stored, so a refused
 * request changes nothing. Carries no stack trace: refusals are expected, frequent, and explained by their message.
 */
public class ApiException extends RuntimeException {
    private final ErrorCode code;

    public ApiException(ErrorCode code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }

    public static ApiException unavailable(String message) {
        return new ApiException(ErrorCode.UNAVAILABLE, message);
    }
}
