package dev.switchboard.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Turns the API's error shape, and failures to reach a server, into the client's typed exceptions. */
final class Errors {
    private Errors() {}

    /** Reads {@code {"error":{"code","message"}}}; a body of another shape is a server fault named by its status. */
    static SwitchboardException of(int status, byte[] body) {
        try {
            JsonNode error = Json.MAPPER.readTree(body).path("error");
            if (error.hasNonNull("code")) {
                return of(error.path("code").asText(), status, error.path("message").asText(""));
            }
        } catch (IOException | RuntimeException notJson) {
            // a proxy's HTML page, an empty body: reported below with the status
        }
        String text = new String(body, StandardCharsets.UTF_8).strip();
        return of(status == 503 ? "unavailable" : "http_" + status, status,
                "HTTP " + status + (text.isEmpty() ? "" : ": " + text.substring(0, Math.min(200, text.length()))));
    }

    /** The exception class of an error code: what the caller can do about it. */
    static SwitchboardException of(String code, int status, String message) {
        String text = code + ": " + message;
        if (code.startsWith("invalid_") || code.equals("missing_lease_token") || code.equals("reserved_topic")
                || code.equals("method_not_allowed") || code.equals("malformed_request")
                || code.equals("uri_too_long") || code.equals("headers_too_large")) {
            return new InvalidRequestException(code, status, text);
        }
        switch (code) {
            case "not_found", "topic_not_found", "job_not_found", "queue_not_found", "not_subscribed", "topic_deleted",
                 "group_not_found":
                return new NotFoundException(code, status, text);
            case "job_finished", "job_not_succeeded", "lease_lost", "lease_expired":
                return new ConflictException(code, status, text);
            case "payload_too_large", "limit_exceeded":
                return new LimitExceededException(code, status, text);
            case "unauthorized", "token_expired", "forbidden", "origin_not_allowed", "host_not_allowed":
                return new NotAuthorizedException(code, status, text);
            case "unavailable", "timeout":
                return new UnavailableException(code, status, text);
            default:
                return new ServerFaultException(code, status, text);
        }
    }

    static ServerFaultException protocol(String message) {
        return new ServerFaultException("protocol", 0, message);
    }

    static ConnectionException unreachable(URI server, Throwable cause) {
        return new ConnectionException("cannot reach " + server + ": " + describe(cause), cause);
    }

    /** The failure inside the wrappers of {@code CompletableFuture}. */
    static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** A readable reason for an I/O failure; the JDK leaves many exception messages empty. */
    static String describe(Throwable e) {
        if (e.getMessage() != null && !e.getMessage().isBlank()) {
            return e.getMessage();
        }
        if (e instanceof ConnectException) {
            return "connection refused";
        }
        return e.getCause() != null ? describe(e.getCause()) : e.getClass().getSimpleName();
    }
}
