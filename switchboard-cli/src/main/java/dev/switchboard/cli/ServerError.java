package dev.switchboard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * A failure the server reported, or a reply it should not have sent: final as far as this request goes. Callers
 * that retry (the subscriber loop, the jobs worker) decide from {@link #status} whether another try can help.
 */
final class ServerError extends RuntimeException {
    /** The HTTP status of the answer that said so; 0 for an error reported inside a stream or a WebSocket. */
    final int status;
    final String code;

    ServerError(int status, String code, String message) {
        super(code + ": " + message);
        this.status = status;
        this.code = code;
    }

    ServerError(String code, String message) {
        this(0, code, message);
    }

    /** Reads {@code {"error":{"code","message"}}}; a body of another shape is reported with its status. */
    static ServerError of(int status, byte[] body) {
        try {
            JsonNode error = Http.JSON.readTree(body).path("error");
            if (error.hasNonNull("code")) {
                return new ServerError(status, error.path("code").asText(), error.path("message").asText(""));
            }
        } catch (IOException | RuntimeException notJson) {
            // fall through: a proxy's HTML page, an empty body
        }
        String text = new String(body, StandardCharsets.UTF_8).strip();
        return new ServerError(status, "http_" + status,
                text.isEmpty() ? "no details" : text.substring(0, Math.min(200, text.length())));
    }
}
