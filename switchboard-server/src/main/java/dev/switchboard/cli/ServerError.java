package dev.switchboard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** A failure the server reported, or a reply it should not have sent: final, never retried. */
final class ServerError extends RuntimeException {
    final String code;

    ServerError(String code, String message) {
        super(code + ": " + message);
        this.code = code;
    }

    /** Reads {@code {"error":{"code","message"}}}; a body of another shape is reported with its status. */
    static ServerError of(int status, byte[] body) {
        try {
            JsonNode error = Http.JSON.readTree(body).path("error");
            if (error.hasNonNull("code")) {
                return new ServerError(error.path("code").asText(), error.path("message").asText());
            }
        } catch (IOException notJson) {
            // fall through: a proxy's HTML page, an empty body
        }
        String text = new String(body, StandardCharsets.UTF_8).strip();
        return new ServerError("http_" + status, text.isEmpty() ? "no details" : text.substring(0, Math.min(200, text.length())));
    }
}
