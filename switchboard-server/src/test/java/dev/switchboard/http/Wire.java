package dev.switchboard.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.Limits;
import dev.switchboard.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/** Helpers shared by the black-box HTTP tests: JSON parsing, the API's error shape, and a raw HTTP/1.1 socket. */
final class Wire {
    static final ObjectMapper JSON = new ObjectMapper();
    /** docs/api.md's time format: UTC with milliseconds, e.g. {@code 2026-11-23T14:00:00.123Z}. */
    static final Pattern TIME = Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z");

    private Wire() {}

    /** {@code limits} with another request head timeout. */
    static Limits withHeaderTimeout(Limits l, Duration timeout) {
        return l.withRequestTimeouts(timeout, l.idleTimeout());
    }

    static JsonNode json(String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + body, e);
        }
    }

    static JsonNode json(HttpResponse<String> r) {
        return json(r.body());
    }

    /** Status, JSON content type and exactly {@code {"error":{"code":…,"message":…}}} with the expected code. */
    static void assertError(int status, String code, int actualStatus, String contentType, String body) {
        assertError("the answer", status, code, actualStatus, contentType, body);
    }

    /** As above; {@code what} names the answer in failure messages (which request got it). */
    static void assertError(String what, int status, String code, int actualStatus, String contentType, String body) {
        assertThat(actualStatus).as("%s: status of %s", what, body).isEqualTo(status);
        assertThat(contentType).as("%s: content type", what).startsWith("application/json");
        JsonNode root = json(body);
        assertThat(root.isObject()).as("%s: a JSON object: %s", what, body).isTrue();
        assertThat(root.size()).as("%s: only an 'error' field: %s", what, body).isEqualTo(1);
        JsonNode error = root.get("error");
        assertThat(error).as("%s: error object in %s", what, body).isNotNull();
        assertThat(error.isObject()).as("%s: error is an object: %s", what, body).isTrue();
        assertThat(error.path("code").isTextual()).as("%s: error.code is a string: %s", what, body).isTrue();
        assertThat(error.path("code").asText()).as("%s: error.code", what).isEqualTo(code);
        assertThat(error.path("message").isTextual()).as("%s: error.message is a string: %s", what, body).isTrue();
        assertThat(error.path("message").asText()).as("%s: error.message", what).isNotBlank();
    }

    static void assertError(HttpResponse<String> r, int status, String code) {
        assertError("the answer", r, status, code);
    }

    static void assertError(String what, HttpResponse<String> r, int status, String code) {
        assertError(what, status, code, r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
    }

    static void assertError(Raw.Response r, int status, String code) {
        assertError("the answer", r, status, code);
    }

    static void assertError(String what, Raw.Response r, int status, String code) {
        assertError(what, status, code, r.status(), r.header("content-type"), r.body());
    }

    static HttpResponse<String> publish(TestServer s, String topic, String type, String body) {
        return s.post("/v1/topics/" + topic + "/messages", type, body);
    }

    /** Publishes text and returns its offset, asserting the 201. */
    static long publishText(TestServer s, String topic, String body) {
        HttpResponse<String> r = publish(s, topic, "text/plain; charset=utf-8", body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return json(r).get("offset").asLong();
    }

    static HttpResponse<String> put(TestServer s, String path, String body) {
        return s.send(HttpRequest.newBuilder(s.uri(path)).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    static HttpResponse<String> delete(TestServer s, String path) {
        return s.send(HttpRequest.newBuilder(s.uri(path)).DELETE().build());
    }

    /** {@code GET /v1/topics/{topic}} as JSON, or null when it is 404. */
    static JsonNode describe(TestServer s, String topic) {
        HttpResponse<String> r = s.get("/v1/topics/" + topic);
        if (r.statusCode() == 404) {
            return null;
        }
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return json(r);
    }

    /** Long polls held on a topic, as its description counts them (0 when absent or not stored). */
    static int heldPolls(TestServer s, String topic) {
        JsonNode d = describe(s, topic);
        return d == null ? 0 : d.path("subscribers").path("longpoll").asInt(0);
    }

    /** A raw HTTP/1.1 connection: writes bytes as given and parses Content-Length framed responses. */
    static final class Raw implements AutoCloseable {
        record Response(int status, Map<String, String> headers, String body) {
            String header(String name) {
                return headers.getOrDefault(name.toLowerCase(Locale.ROOT), "");
            }
        }

        private final Socket socket;
        private final InputStream in;

        Raw(int port, int readTimeoutMillis) {
            try {
                socket = new Socket("127.0.0.1", port);
                socket.setSoTimeout(readTimeoutMillis);
                in = socket.getInputStream();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        Raw write(String text) {
            return write(text.getBytes(StandardCharsets.ISO_8859_1));
        }

        Raw write(byte[] bytes) {
            try {
                socket.getOutputStream().write(bytes);
                socket.getOutputStream().flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        /** The next response; fails on EOF or on the read timeout. */
        Response read() {
            try {
                String statusLine = line();
                if (statusLine == null) {
                    throw new AssertionError("connection closed before a response");
                }
                String[] parts = statusLine.split(" ", 3);
                assertThat(parts[0]).startsWith("HTTP/1.");
                Map<String, String> headers = new LinkedHashMap<>();
                for (String h = line(); h != null && !h.isEmpty(); h = line()) {
                    int colon = h.indexOf(':');
                    headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
                }
                int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
                byte[] body = in.readNBytes(length);
                assertThat(body).hasSize(length);
                return new Response(Integer.parseInt(parts[1]), headers, new String(body, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /**
         * Everything the server sends until it closes the connection. Fails if it is still open when the read timeout
         * passes: the server must answer and close, or just close, on its own.
         */
        String readUntilClosed() {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    all.write(buf, 0, n);
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the server neither answered nor closed; got so far: "
                        + all.toString(StandardCharsets.ISO_8859_1));
            } catch (IOException e) {
                // a reset is a close too
            }
            return all.toString(StandardCharsets.ISO_8859_1);
        }

        private String line() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (int c; (c = in.read()) >= 0; ) {
                if (c == '\n') {
                    String s = b.toString(StandardCharsets.ISO_8859_1);
                    return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
                }
                b.write(c);
            }
            return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}
