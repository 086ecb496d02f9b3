package dev.switchboard.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The JDK HTTP client as the client commands ({@code pub}, {@code sub}, {@code jobs}) use it. */
final class Http {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** For a request that does not wait on purpose (a long poll or a held claim sets its own). */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    private Http() {
    }

    static HttpClient client() {
        return client(CONNECT_TIMEOUT);
    }

    /** HTTP/1.1 only: the API is specified over it, and it spares every request an h2c upgrade attempt. */
    static HttpClient client(Duration connectTimeout) {
        return HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(connectTimeout)
                .build();
    }

    /** Sends a request; a server that cannot be reached is reported as such, with its address. */
    static <T> HttpResponse<T> send(HttpClient http, HttpRequest request, HttpResponse.BodyHandler<T> body)
            throws IOException, InterruptedException {
        try {
            return http.send(request, body);
        } catch (ConnectException | HttpConnectTimeoutException e) {
            throw unreachable(request.uri(), e);
        }
    }

    static IOException unreachable(URI uri, Throwable cause) {
        return unreachable(uri.getScheme() + "://" + uri.getRawAuthority(), cause);
    }

    /** {@code cannot reach SERVER: reason}; a failure that already says so is returned as it is. */
    static IOException unreachable(String server, Throwable cause) {
        if (cause instanceof IOException io && io.getMessage() != null && io.getMessage().startsWith("cannot reach ")) {
            return io;
        }
        return new IOException("cannot reach " + server + ": " + describe(cause), cause);
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
