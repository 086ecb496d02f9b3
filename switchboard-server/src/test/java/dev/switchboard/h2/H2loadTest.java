package dev.switchboard.h2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.TestTls;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code h2load} (Debian's nghttp2-client), the HTTP/2 load generator, as a real client: many streams in flight on
 * each connection, publishing and polling, over TLS (h2 by ALPN) and in clear text (h2c by prior knowledge). Every
 * request must succeed with a 2xx.
 */
@Slow
class H2loadTest {
    private static final int REQUESTS = 400;

    private static String h2load(List<String> args) throws Exception {
        List<String> command = new ArrayList<>(List.of("h2load", "-n", String.valueOf(REQUESTS), "-c", "2", "-m", "16"));
        command.addAll(args);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(out).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    private static void assertAllSucceeded(String out, String protocol) {
        assertThat(out).contains("Application protocol: " + protocol)
                .contains(REQUESTS + " succeeded, 0 failed, 0 errored")
                .contains("status codes: " + REQUESTS + " 2xx");
    }

    @Test
    void publishesAndPollsOverTlsAndInClearText() throws Exception {
        try (TestTls tls = TestTls.create(); TestServer server = TestServer.start(tls.serving())) {
            Path body = Files.writeString(tls.dir().resolve("body.txt"), "a message from h2load");
            String base = "https://localhost:" + server.port();
            assertAllSucceeded(h2load(List.of("-d", body.toString(), "-H", "Content-Type: text/plain",
                    base + "/v1/topics/h2load/messages")), "h2");
            assertAllSucceeded(h2load(List.of(base + "/v1/topics/h2load/messages?limit=10")), "h2");
        }
        try (TestServer server = TestServer.start()) {
            assertAllSucceeded(h2load(List.of(server.url() + "/healthz")), "h2c");
        }
    }
}
