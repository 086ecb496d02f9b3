package dev.switchboard.loadtest;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One kept-alive HTTP/1.1 connection, used by one thread at a time (a virtual thread blocks on it cheaply): a request
 * is one write and its answer is read straight off the socket, and several requests can be pipelined. It exists
 * because the JDK's HttpClient spends its own threads and hand-offs on each exchange (BENCHMARKS.md, "Auth, stage
 * timing and the client": 1,267 blocking requests/s from one core), which a job's four exchanges pay four times and
 * which the peers' clients (ioredis under BullMQ) do not: the jobs benchmark measures the server, not the JDK's
 * client. It reads answers with a {@code Content-Length} or none (204, 304); anything else is an error.
 */
final class KeepAliveHttp implements Closeable {
    private static final int MAX_HEAD_BYTES = 16 * 1024;
    private static final int MAX_BODY_BYTES = 16 * 1024 * 1024;

    /** A request: method, path with query, extra header lines ({@code Name: value}) and body (may be empty). */
    record Request(String method, String target, Map<String, String> headers, byte[] body) {}

    record Response(int status, byte[] body) {}

    private final InetSocketAddress address;
    private final String host;
    private Socket socket;
    private OutputStream out;
    private InputStream in;

    KeepAliveHttp(URI server) {
        int port = server.getPort() == -1 ? 80 : server.getPort();
        this.address = new InetSocketAddress(server.getHost(), port);
        this.host = server.getHost() + ":" + port;
    }

    Response send(Request request) throws IOException {
        return pipeline(List.of(request)).getFirst();
    }

    /** Writes every request at once, then reads their answers in order; a failure closes the connection. */
    List<Response> pipeline(List<Request> requests) throws IOException {
        try {
            connect();
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(256 * requests.size());
            for (Request r : requests) {
                encode(r, bytes);
            }
            bytes.writeTo(out);
            out.flush();
            List<Response> answers = new ArrayList<>(requests.size());
            for (int i = 0; i < requests.size(); i++) {
                answers.add(read());
            }
            return answers;
        } catch (IOException | RuntimeException e) {
            close();
            throw e instanceof IOException io ? io : new IOException(e);
        }
    }

    private void connect() throws IOException {
        if (socket == null) {
            Socket s = new Socket();
            s.setTcpNoDelay(true);
            s.connect(address, 5_000);
            socket = s;
            out = s.getOutputStream();
            in = new BufferedInputStream(s.getInputStream(), 16 * 1024);
        }
    }

    private void encode(Request r, ByteArrayOutputStream to) {
        StringBuilder head = new StringBuilder(128).append(r.method()).append(' ').append(r.target())
                .append(" HTTP/1.1\r\nHost: ").append(host).append("\r\nContent-Length: ").append(r.body().length)
                .append("\r\n");
        r.headers().forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
        to.writeBytes(head.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
        to.writeBytes(r.body());
    }

    private Response read() throws IOException {
        String status = line();
        if (!status.startsWith("HTTP/1.1 ") || status.length() < 12) {
            throw new IOException("not an HTTP/1.1 answer: " + status);
        }
        int code = Integer.parseInt(status.substring(9, 12));
        int length = 0;
        int headBytes = status.length();
        for (String line; !(line = line()).isEmpty(); ) {
            headBytes += line.length();
            if (headBytes > MAX_HEAD_BYTES) {
                throw new IOException("answer head over " + MAX_HEAD_BYTES + " bytes");
            }
            int colon = line.indexOf(':');
            String name = colon < 0 ? line : line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            if (name.equals("content-length")) {
                length = Integer.parseInt(line.substring(colon + 1).trim());
            } else if (name.equals("transfer-encoding")) {
                throw new IOException("a streamed answer (" + line + "): only Content-Length is read here");
            }
        }
        if (length < 0 || length > MAX_BODY_BYTES) {
            throw new IOException("Content-Length " + length + " out of range");
        }
        byte[] body = in.readNBytes(length);
        if (body.length != length) {
            throw new IOException("the server closed the connection within an answer's body");
        }
        return new Response(code, body);
    }

    private String line() throws IOException {
        StringBuilder line = new StringBuilder(64);
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) {
                throw new IOException("the server closed the connection");
            }
            if (c != '\r') {
                line.append((char) c);
            }
            if (line.length() > MAX_HEAD_BYTES) {
                throw new IOException("answer line over " + MAX_HEAD_BYTES + " bytes");
            }
        }
        return line.toString();
    }

    @Override
    public void close() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing a broken connection: nothing left to do with it
            }
            socket = null;
        }
    }
}
