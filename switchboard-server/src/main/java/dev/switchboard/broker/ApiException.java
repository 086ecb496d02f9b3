package dev.switchboard.broker;

import java.util.Map;

/**
 * A request the server refuses, with the HTTP status and the stable machine-readable code of API.md's error shape
 * {@code {"error":{"code","message"}}}. Thrown before anything is stored, so a refused request changes nothing.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String code;
    private final Map<String, String> headers;

    public ApiException(int status, String code, String message) {
        this(status, code, message, Map.of());
    }

    private ApiException(int status, String code, String message, Map<String, String> headers) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.headers = headers;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    /** HTTP headers the error response carries besides its body, like {@code Allow} on a 405. */
    public Map<String, String> headers() {
        return headers;
    }

    public static ApiException badRequest(String code, String message) {
        return new ApiException(400, code, message);
    }

    public static ApiException notFound(String code, String message) {
        return new ApiException(404, code, message);
    }

    /** 405 with the {@code Allow} header RFC 9110 (15.5.6) requires, e.g. {@code "GET, POST"}. */
    public static ApiException methodNotAllowed(String allowed) {
        return new ApiException(405, "method_not_allowed", "method not allowed here; use " + allowed,
                Map.of("Allow", allowed));
    }

    public static ApiException tooLarge(String message) {
        return new ApiException(413, "payload_too_large", message);
    }

    public static ApiException overLimit(String message) {
        return new ApiException(429, "limit_exceeded", message);
    }

    public static ApiException unavailable(String message) {
        return new ApiException(503, "unavailable", message);
    }
}
