package dev.switchboard.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A slow-header (slowloris) attack: 1,000 connections each sending its request head one byte per second. Normal
 * clients are served all along, and every trickling connection is closed by the server at the header timeout, not
 * before and not much after.
 */
@Slow
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SlowHeadersTest {
    private static final int TRICKLERS = 1000;
    private static final Duration HEADER_TIMEOUT = Duration.ofSeconds(3);
    private static final byte[] HEAD = ("POST /v1/topics/slow.victim/messages HTTP/1.1\r\nHost: localhost\r\n"
            + "X-Padding: " + "a".repeat(200) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);

    private static int publish(TestServer server, String body) {
        return server.send(HttpRequest.newBuilder(server.uri("/v1/topics/slow.normal/messages"))
                .timeout(Duration.ofSeconds(5)).POST(HttpRequest.BodyPublishers.ofString(body)).build()).statusCode();
    }

    @Test
    void tricklingConnectionsAreClosedAtTheHeaderTimeoutAndDoNotSlowOthers() throws Exception {
        try (TestServer server = TestServer.start(c -> c.withLimits(c.limits()
                .withRequestTimeouts(HEADER_TIMEOUT, Duration.ofMinutes(5))));
             ScheduledExecutorService trickle = Executors.newSingleThreadScheduledExecutor()) {
            assertThat(publish(server, "warm-up")).isEqualTo(201); // the topic and the JIT, before anything is measured
            List<Socket> sockets = new ArrayList<>();
            long[] connecting = new long[TRICKLERS]; // before connect(): the server's clock starts after this
            AtomicLongArray closedAt = new AtomicLongArray(TRICKLERS);
            try {
                for (int i = 0; i < TRICKLERS; i++) {
                    Socket s = new Socket();
                    connecting[i] = System.nanoTime();
                    s.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
                    sockets.add(s);
                    int index = i;
                    InputStream in = s.getInputStream();
                    Thread.ofVirtual().start(() -> {
                        try {
                            while (in.read() >= 0) {
                                // an answer would be a failure too: the head never completes, so none may come
                            }
                        } catch (IOException e) {
                            // a reset is a close
                        }
                        closedAt.set(index, System.nanoTime());
                    });
                }
                int[] sent = new int[1];
                trickle.scheduleAtFixedRate(() -> {
                    int at = sent[0]++;
                    for (Socket s : sockets) {
                        try {
                            OutputStream out = s.getOutputStream();
                            out.write(HEAD[at % HEAD.length]);
                            out.flush();
                        } catch (IOException closed) {
                            // closed by the server: what the test waits for
                        }
                    }
                }, 0, 1, TimeUnit.SECONDS);

                // Normal clients meanwhile: every publish answered.
                long[] took = new long[200];
                for (int i = 0; i < took.length; i++) {
                    long start = System.nanoTime();
                    assertThat(publish(server, "m" + i)).isEqualTo(201);
                    took[i] = System.nanoTime() - start;
                }
                Arrays.sort(took);
                System.out.printf("slow headers: %d tricklers; 200 normal publishes: median %.1f ms, p99 %.1f ms, "
                        + "max %.1f ms%n", TRICKLERS, took[100] / 1e6, took[198] / 1e6, took[199] / 1e6);

                await().atMost(HEADER_TIMEOUT.plusSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
                    for (int i = 0; i < TRICKLERS; i++) {
                        if (closedAt.get(i) == 0) {
                            return false;
                        }
                    }
                    return true;
                });
                long earliest = Long.MAX_VALUE;
                long latest = 0;
                for (int i = 0; i < TRICKLERS; i++) {
                    long lived = closedAt.get(i) - connecting[i];
                    earliest = Math.min(earliest, lived);
                    latest = Math.max(latest, lived);
                }
                System.out.printf("slow headers: closed after %.0f-%.0f ms (timeout %d ms)%n", earliest / 1e6,
                        latest / 1e6, HEADER_TIMEOUT.toMillis());
                assertThat(earliest).as("none closed before the header timeout")
                        .isGreaterThanOrEqualTo(HEADER_TIMEOUT.toNanos());
                assertThat(server.get("/v1/topics/slow.victim").statusCode()).as("nothing stored").isEqualTo(404);
            } finally {
                trickle.shutdownNow();
                for (Socket s : sockets) {
                    s.close();
                }
            }
        }
    }
}
