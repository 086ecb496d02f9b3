package dev.switchboard.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.Chunked;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Proxied bodies stream both ways without being collected: a client that stops reading a 200 MiB response stops the
 * upstream's writes (upstream.py's {@code /generate} counts what its socket took), and an upstream that stops reading
 * a 200 MiB request body stops the client's writes; meanwhile Netty's direct memory stays within a small bound, and
 * once the slow side goes on every byte arrives, checksums equal. Raw sockets with small buffers as clients, so the
 * only slack is the kernel's and Netty's watermarks.
 */
@Slow
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SidecarBackpressureTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int TOTAL = 200 * 1024 * 1024;
    /**
     * Far below the total: the most that loopback sockets' buffers (autotuned up to tcp_rmem's and tcp_wmem's
     * maximum, 32 + 4 MiB here, on each connection's both ends) and Netty's write watermarks can hold.
     */
    static final long STALLED_AT_MOST = 96L * 1024 * 1024;
    /** Direct memory the proxy may add while a side stalls: its watermarks, not the body. */
    private static final long DIRECT_MEMORY_SLACK = 32L * 1024 * 1024;
    private static final Pattern DIRECT = Pattern.compile("(?m)^switchboard_netty_direct_memory_bytes (\\S+)$");
    /**
     * HTTP/1.1: the JDK client's default, HTTP/2, offers h2c on each new clear-text connection, and once, with the
     * machine at load ~20, the upgrade of the first /metrics request hung for the test's 120 s; the next request on
     * that client then read text of a /metrics body as HTTP/2 frame headers ("Frame type(110) length(6516597)":
     * "coun", "t"): the client drops bytes that share the 101's read past 16 KiB (the server now holds that answer
     * for the client's preface, H2cPrefaceWait). What this class tests is HTTP/1.1 backpressure, not the upgrade; a
     * timeout per request makes any hang a clear error of its own.
     */
    private static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final Duration ANSWER_WITHIN = Duration.ofSeconds(30);
    private static UpstreamApp app;
    private static TestServer server;

    @BeforeAll
    static void start() {
        app = UpstreamApp.start();
        server = app.inFront();
    }

    @AfterAll
    static void stop() {
        server.close();
        app.close();
    }

    @Test
    void aClientThatStopsReadingStopsTheUpstreamsWritesThenGetsEveryByte() throws Exception {
        long baseline = directMemory();
        try (Socket client = new Socket()) {
            client.setReceiveBufferSize(64 * 1024); // before connecting: no window scaling past it
            client.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
            client.setSoTimeout(30_000);
            OutputStream out = client.getOutputStream();
            out.write(("GET /generate?n=" + TOTAL + "&id=down HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = client.getInputStream();
            String head = readHead(in);
            assertThat(head).startsWith("HTTP/1.1 200").containsIgnoringCase("content-length: " + TOTAL);
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            long read = readInto(in, digest, 1024 * 1024);

            long written = awaitStalled(() -> progress("down").path("written").asLong());
            assertThat(written).as("the upstream's writes stop while the client does not read")
                    .isLessThan(STALLED_AT_MOST).isLessThan(TOTAL);
            assertThat(directMemory()).as("the proxy does not hold the body").isLessThan(baseline + DIRECT_MEMORY_SLACK);

            read += readInto(in, digest, TOTAL - read);
            assertThat(read).isEqualTo(TOTAL);
            String sent = await().atMost(Duration.ofSeconds(30)).until(() -> progress("down").path("sha256").asText(),
                    s -> !s.isEmpty());
            assertThat(HexFormat.of().formatHex(digest.digest())).isEqualTo(sent);
        }
    }

    /**
     * {@code /sink} answers once it read the body; {@code /early} answers at once, then reads the body: an answer
     * under way does not let the client's body past an upstream that does not read it.
     */
    @ParameterizedTest
    @ValueSource(strings = {"sink", "early"})
    void anUpstreamThatStopsReadingStopsTheClientsWritesThenGetsEveryByte(String path) throws Exception {
        long baseline = directMemory();
        byte[] block = new byte[64 * 1024];
        new Random(3).nextBytes(block);
        AtomicLong sent = new AtomicLong();
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (Socket client = new Socket()) {
            client.setSendBufferSize(64 * 1024);
            client.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
            client.setSoTimeout(30_000);
            OutputStream out = client.getOutputStream();
            CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
                try {
                    out.write(("POST /" + path + "?id=" + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: " + TOTAL
                            + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    for (int done = 0; done < TOTAL; done += block.length) {
                        out.write(block); // blocks while nobody reads on: what the test watches
                        digest.update(block);
                        sent.addAndGet(block.length);
                    }
                    out.flush();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });

            long stalledAt = awaitStalled(sent::get);
            assertThat(stalledAt).as("the client's writes stop while the upstream does not read")
                    .isLessThan(STALLED_AT_MOST).isLessThan(TOTAL);
            assertThat(progress(path).path("read").asLong()).as("the upstream read its first MiB only")
                    .isLessThanOrEqualTo(1024 * 1024 + 64 * 1024);
            assertThat(directMemory()).as("the proxy does not hold the body").isLessThan(baseline + DIRECT_MEMORY_SLACK);

            http.send(HttpRequest.newBuilder(app.uri("/release?id=" + path)).timeout(ANSWER_WITHIN).build(),
                    HttpResponse.BodyHandlers.ofString());
            writing.get(60, TimeUnit.SECONDS);
            InputStream in = client.getInputStream();
            String head = readHead(in);
            assertThat(head).startsWith("HTTP/1.1 200");
            JsonNode answer = JSON.readTree(readBody(in, head));
            assertThat(answer.path("length").asLong()).isEqualTo(TOTAL);
            assertThat(answer.path("sha256").asText()).isEqualTo(HexFormat.of().formatHex(digest.digest()));
        }
    }

    /**
     * Waits until {@code progress} has not moved for a second, and returns where it stopped. A count that never stops
     * growing fails the test at the timeout; one that stops early only makes the bound easier to meet.
     */
    static long awaitStalled(Callable<Long> progress) {
        AtomicLong last = new AtomicLong(-1);
        AtomicLong since = new AtomicLong(System.nanoTime());
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
            long now = progress.call();
            if (last.getAndSet(now) != now) {
                since.set(System.nanoTime());
            }
            return now > 0 && System.nanoTime() - since.get() >= TimeUnit.SECONDS.toNanos(1);
        });
        return last.get();
    }

    private static JsonNode progress(String id) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(app.uri("/progress?id=" + id)).timeout(ANSWER_WITHIN).build();
        return JSON.readTree(http.send(request, HttpResponse.BodyHandlers.ofString()).body());
    }

    /** Netty's direct memory in the server, from {@code /metrics}. */
    private static long directMemory() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(server.url() + "/metrics")).timeout(ANSWER_WITHIN)
                .build();
        String metrics = http.send(request, HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = DIRECT.matcher(metrics);
        assertThat(m.find()).as("the direct memory gauge").isTrue();
        return (long) Double.parseDouble(m.group(1));
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the connection closed in the response head: " + head);
            }
            head.write(b);
            matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    /** The body after {@code head}: its Content-Length's worth, or chunks up to the last (an answer of unknown length). */
    private static byte[] readBody(InputStream in, String head) throws IOException {
        Matcher length = Pattern.compile("(?i)content-length: (\\d+)").matcher(head);
        if (length.find()) {
            return in.readNBytes(Integer.parseInt(length.group(1)));
        }
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        while (!Chunked.decode(wire.toByteArray()).ended()) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the connection closed in the chunked body: " + wire);
            }
            wire.write(b);
        }
        return Chunked.decode(wire.toByteArray()).data();
    }

    private static long readInto(InputStream in, MessageDigest digest, long n) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long done = 0;
        while (done < n) {
            int k = in.read(buf, 0, (int) Math.min(buf.length, n - done));
            if (k < 0) {
                break;
            }
            digest.update(buf, 0, k);
            done += k;
        }
        return done;
    }
}
