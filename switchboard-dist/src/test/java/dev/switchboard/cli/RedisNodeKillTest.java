package dev.switchboard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.dist.Main;
import dev.switchboard.testing.Slow;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code kill -9} of a node during a steady stream: {@code switchboard sub} with {@code --failover} moves to another
 * node of the same Redis and resumes from its offset — nothing lost, nothing printed twice. Real node processes, a
 * real redis-server.
 */
@Slow
@Timeout(180)
class RedisNodeKillTest {
    private static final int MESSAGES = 300;

    @TempDir
    Path dir;
    private final HttpClient http = HttpClient.newHttpClient();
    private final PrintStream stdout = System.out;
    private RedisNodes nodes;
    private Thread sub;

    @AfterEach
    void stopEverything() throws InterruptedException {
        if (sub != null) {
            sub.interrupt();
            sub.join(10_000);
        }
        System.setOut(stdout);
        http.close();
        if (nodes != null) {
            nodes.close();
        }
    }

    @ParameterizedTest
    @EnumSource(SubCommand.Via.class)
    void aSubscriberOfAKilledNodeResumesOnAnotherWithNothingLostOrRepeated(SubCommand.Via via) throws Exception {
        nodes = new RedisNodes(dir, 3);
        String topic = "kill." + via;

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        sub = new Thread(() -> exit.complete(Main.run("sub", topic, "--from", "earliest", "--count",
                String.valueOf(MESSAGES), "--via", via.name(), "--server", nodes.url(0), "--failover",
                nodes.url(1) + "," + nodes.url(2))), "sub");
        sub.setDaemon(true);
        sub.start();

        List<String> published = new ArrayList<>();
        for (int i = 0; i < MESSAGES; i++) {
            String payload = "m" + i;
            // A steady stream through the nodes that stay up, in one order: offsets follow the list.
            String node = nodes.url(1 + i % 2);
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(node + "/v1/topics/" + topic
                    + "/messages")).header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers
                    .ofString(payload)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            published.add(payload);
            if (i == MESSAGES / 3) {
                await().atMost(Duration.ofSeconds(60)).until(() -> out.toString(StandardCharsets.UTF_8).lines()
                        .count() >= 50);
                nodes.kill(0); // kill -9 of the subscriber's node, mid-stream
            }
        }

        assertThat(exit.get(90, TimeUnit.SECONDS)).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8).lines().toList()).as("printed once each, in order")
                .containsExactlyElementsOf(published);
    }
}
