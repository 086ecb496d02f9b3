package dev.switchboard.cli;

import dev.switchboard.dist.Main;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.auth.JwtAuthenticator;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.Tokens;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@code switchboard pub} and {@code sub} through {@link Main#run}, against a real server, stdio captured. */
@Timeout(60)
class CliEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<Thread> running = new ArrayList<>();
    private final PrintStream stdout = System.out;
    private final PrintStream stderr = System.err;
    private TestServer server;

    @BeforeEach
    void start() {
        server = TestServer.start();
    }

    @AfterEach
    void stop() {
        running.forEach(Thread::interrupt); // a sub a failed test left waiting
        System.setOut(stdout);
        System.setErr(stderr);
        server.close();
    }

    @Test
    void subWithAGroupPrintsItsShareAndAcknowledgesEachPrintedMessage() {
        for (int i = 1; i <= 5; i++) {
            assertThat(cli("", "pub", "work", "job-" + i).exit()).isZero();
        }
        Result first = cli("", "sub", "work", "--group", "printers", "--count", "3");
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.lines()).containsExactly("job-1", "job-2", "job-3");
        // what the first member fetched but did not print went back to the group when it stopped
        Result second = cli("", "sub", "work", "--group", "printers", "--count", "2");
        assertThat(second.lines()).containsExactly("job-4", "job-5");
        assertThat(server.get("/v1/topics/work/groups/printers").body()).contains("\"committed\":6");
        Result both = cli("", "sub", "work", "--group", "printers", "--from", "earliest");
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).contains("--from and --via do not apply");
    }

    @ParameterizedTest
    @EnumSource(SubCommand.Via.class)
    void subPrintsWhatPubPublished(SubCommand.Via via) {
        String topic = "e2e." + via;
        assertThat(cli("", "pub", topic, "hello").lines()).containsExactly("1");
        assertThat(cli("", "pub", topic, "{\"a\": [1, 2]}", "--json").lines()).containsExactly("2");
        assertThat(cli("l1\nl2\r\n", "pub", topic, "--lines").lines()).containsExactly("3", "4");
        assertThat(cli("h\u00e9llo \u20ac", "pub", topic).lines()).containsExactly("5");
        assertThat(cli(new byte[] {(byte) 0xff, (byte) 0xfe, 0}, "pub", topic, "-", "--type", "application/octet-stream").lines())
                .containsExactly("6");

        Result sub = cli("", "sub", topic, "--from", "earliest", "--count", "6", "--via", via.name());

        assertThat(sub.exit()).isZero();
        // Every transport carries the type (SSE in its envelope format), so JSON is printed compact on each.
        assertThat(sub.lines()).containsExactly("hello", "{\"a\":[1,2]}", "l1", "l2", "h\u00e9llo \u20ac", "//4A");
    }

    @ParameterizedTest
    @EnumSource(SubCommand.Via.class)
    void subResumesAcrossAServerRestartWithNothingLostOrRepeated(SubCommand.Via via) throws Exception {
        String topic = "restart." + via;
        for (int i = 1; i <= 3; i++) {
            server.post("/v1/topics/" + topic + "/messages", "text/plain", "before-" + i);
        }
        Background sub = background("sub", topic, "--from", "earliest", "--count", "6", "--via", via.name());
        await().atMost(Duration.ofSeconds(20)).until(() -> sub.out().lines().count() == 3);

        server.restart();
        for (int i = 4; i <= 6; i++) {
            server.post("/v1/topics/" + topic + "/messages", "text/plain", "after-" + i);
        }

        assertThat(sub.exit().get(30, TimeUnit.SECONDS)).isZero();
        assertThat(sub.out().lines()).containsExactly("before-1", "before-2", "before-3", "after-4", "after-5", "after-6");
    }

    @ParameterizedTest
    @EnumSource(SubCommand.Via.class)
    void subFromNextPrintsOnlyNewMessages(SubCommand.Via via) throws Exception {
        String topic = "next." + via;
        server.post("/v1/topics/" + topic + "/messages", "text/plain", "old");
        Background sub = background("sub", topic, "--count", "2", "--via", via.name());
        String transport = via == SubCommand.Via.poll ? "longpoll" : via.name();
        await().atMost(Duration.ofSeconds(20)).until(() -> subscribers(topic, transport) > 0);

        server.post("/v1/topics/" + topic + "/messages", "text/plain", "new-1");
        server.post("/v1/topics/" + topic + "/messages", "application/json", "{\"n\":2}");

        assertThat(sub.exit().get(30, TimeUnit.SECONDS)).isZero();
        assertThat(sub.out().lines()).containsExactly("new-1", "{\"n\":2}");
    }

    @Test
    void envelopePrintsOneJsonLinePerMessage() throws IOException {
        cli("", "pub", "env", "two\nlines");
        Result sub = cli("", "sub", "env", "--from", "1", "--count", "1", "--via", "poll", "--envelope");
        JsonNode envelope = JSON.readTree(sub.out());
        assertThat(sub.lines()).hasSize(1);
        assertThat(envelope.path("offset").asLong()).isEqualTo(1);
        assertThat(envelope.path("type").asText()).isEqualTo("text/plain; charset=utf-8");
        assertThat(envelope.path("data").asText()).isEqualTo("two\nlines");
        assertThat(envelope.has("headers")).isFalse();

        assertThat(server.send(java.net.http.HttpRequest.newBuilder(server.uri("/v1/topics/env/messages"))
                .header("Content-Type", "text/plain").header("Switchboard-Header-Trace-Id", "t-9")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("with headers")).build()).statusCode())
                .isEqualTo(201);
        Result sse = cli("", "sub", "env", "--from", "2", "--count", "1", "--via", "sse", "--envelope");
        JsonNode withHeaders = JSON.readTree(sse.out());
        assertThat(withHeaders.path("headers").toString()).isEqualTo("{\"Trace-Id\":[\"t-9\"]}");
        assertThat(withHeaders.path("type").asText()).isEqualTo("text/plain");
        assertThat(withHeaders.path("data").asText()).isEqualTo("with headers");
    }

    @Test
    void subFollowsAPatternOfTopics() throws IOException {
        cli("", "pub", "pat.a", "a1");
        cli("", "pub", "pat.b", "b1");
        cli("", "pub", "pat.a", "a2");
        cli("", "pub", "pat.a.deep", "not matched");
        Result sub = cli("", "sub", "pat.*", "--from", "earliest", "--count", "3", "--envelope");
        assertThat(sub.exit()).as(sub.err()).isZero();
        List<String> got = new ArrayList<>();
        for (String line : sub.lines()) {
            JsonNode m = JSON.readTree(line);
            got.add(m.path("topic").asText() + "@" + m.path("offset").asLong() + "=" + m.path("data").asText());
        }
        assertThat(got).containsExactlyInAnyOrder("pat.a@1=a1", "pat.a@2=a2", "pat.b@1=b1");
        assertThat(cli("", "sub", "pat.*", "--from", "3").exit()).as("one offset means nothing across topics")
                .isNotZero();
    }

    @Test
    void anIdempotencyKeyStoresARetriedPublishOnce() {
        assertThat(cli("", "pub", "idem", "once", "--key", "k1").lines()).containsExactly("1");
        assertThat(cli("", "pub", "idem", "once", "--key", "k1").lines()).containsExactly("1");
        assertThat(cli("a\nb\n", "pub", "idem", "--lines", "--key", "batch").lines()).containsExactly("2", "3");
        assertThat(cli("a\nb\n", "pub", "idem", "--lines", "--key", "batch").lines()).containsExactly("2", "3");
    }

    @Test
    void theTokenGoesWithEveryCommandToAServerThatNeedsOne(@TempDir Path keys) {
        server.close();
        Tokens tokens = Tokens.hs256(keys);
        server = TestServer.start(c -> c.withAuth(tokens.config()));
        Result refused = cli("", "pub", "auth.t", "x");
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.err()).startsWith("switchboard: unauthorized: ");

        String token = tokens.sign(Tokens.claims("cli", Tokens.rights(List.of("auth.>"), List.of("auth.>"),
                List.of("auth-q"), List.of(), false)));
        assertThat(cli("", "pub", "auth.t", "x", "--token", token).lines()).containsExactly("1");
        for (SubCommand.Via via : SubCommand.Via.values()) {
            Result sub = cli("", "sub", "auth.t", "--from", "earliest", "--count", "1", "--via", via.name(),
                    "--token", token);
            assertThat(sub.lines()).as(via.name()).containsExactly("x");
        }
        assertThat(cli("", "jobs", "submit", "auth-q", "work").exit()).isEqualTo(1);
        assertThat(cli("", "jobs", "submit", "auth-q", "work", "--token", token).exit()).isZero();

        Result notAdmin = cli("", "top", "--count", "1", "--interval", "250ms", "--token", token);
        assertThat(notAdmin.exit()).isEqualTo(1);
        assertThat(notAdmin.err()).contains("403");
        String admin = tokens.sign(Tokens.claims("root", Tokens.rights(List.of(), List.of(), List.of(), List.of(), true)));
        Result top = cli("", "top", "--count", "1", "--interval", "250ms", "--token", admin);
        assertThat(top.exit()).as(top.err()).isZero();
        assertThat(top.out()).startsWith("switchboard top  " + server.url());
    }

    /**
     * A pushed subscription whose token expires is ended by the server (WebSocket 4001, SSE token_expired); the sub
     * reconnects with what its --token-file holds by then and misses nothing. The reconnect is seen in the topic's
     * presence events: joined, left, joined again.
     */
    @ParameterizedTest
    @EnumSource(value = SubCommand.Via.class, names = {"ws", "sse"})
    void aSubWithATokenFileOutlivesItsToken(SubCommand.Via via, @TempDir Path keys) throws Exception {
        server.close();
        Tokens tokens = Tokens.hs256(keys);
        server = TestServer.start(c -> c.withAuth(tokens.config()));
        String topic = "renew." + via;
        Map<String, Object> rights = Tokens.rights(List.of(), List.of(topic), List.of(), List.of(), false);
        Instant expired = Instant.now().minusSeconds(JwtAuthenticator.CLOCK_SKEW_SECONDS - 5); // 5 s to go
        Path tokenFile = keys.resolve("token");
        Files.writeString(tokenFile, tokens.sign(Tokens.claims("sub", rights).notBeforeTime(Date.from(expired.minusSeconds(60)))
                .expirationTime(Date.from(expired))) + "\n");
        String admin = tokens.sign(Tokens.claims("root", Tokens.rights(List.of(), List.of(), List.of(), List.of(), true)));

        Background sub = background("sub", topic, "--from", "earliest", "--count", "2", "--via", via.name(),
                "--token-file", tokenFile.toString());
        publishAs(admin, topic, "before");
        await().atMost(Duration.ofSeconds(20)).until(() -> sub.out().lines().count() == 1);
        Files.writeString(tokenFile, tokens.sign(Tokens.claims("sub", rights)));
        await().atMost(Duration.ofSeconds(30)).until(() -> presenceEvents(admin, topic) >= 3);
        publishAs(admin, topic, "after");

        assertThat(sub.exit().get(30, TimeUnit.SECONDS)).isZero();
        assertThat(sub.out().lines()).containsExactly("before", "after");
    }

    private void publishAs(String token, String topic, String body) {
        assertThat(server.send(HttpRequest.newBuilder(server.uri("/v1/topics/" + topic + "/messages"))
                .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.ofString(body)).build())
                .statusCode()).isEqualTo(201);
    }

    private int presenceEvents(String token, String topic) throws IOException {
        HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/v1/topics/_presence." + topic
                + "/messages?from=earliest")).header("Authorization", "Bearer " + token).build());
        return r.statusCode() == 200 ? JSON.readTree(r.body()).get("messages").size() : 0;
    }

    @Test
    void topReconnectsAfterTheServerRestarts() throws Exception {
        // A snapshot comes at once on each connection, the next only a minute later: the second frame can only
        // come from a new connection.
        Background top = background("top", "--count", "2", "--interval", "1m");
        await().atMost(Duration.ofSeconds(20)).until(() -> frames(top.out()) == 1);

        server.restart();

        assertThat(top.exit().get(30, TimeUnit.SECONDS)).as(top.err()).isZero();
        assertThat(frames(top.out())).isEqualTo(2);
        assertThat(top.err()).contains("switchboard top: lost " + server.url()).contains("reconnecting in");
    }

    private static int frames(String out) {
        return (int) out.lines().filter(l -> l.startsWith("switchboard top  ")).count();
    }

    @Test
    void serverErrorsAreReportedWithTheirCode() {
        Result badName = cli("", "pub", "bad name", "x");
        assertThat(badName.exit()).isEqualTo(1);
        assertThat(badName.err()).startsWith("switchboard: invalid_topic: ");

        Result badJson = cli("", "pub", "t", "not json", "--json");
        assertThat(badJson.exit()).isEqualTo(1);
        assertThat(badJson.err()).startsWith("switchboard: invalid_json: ");

        Result subBadName = cli("", "sub", "bad name", "--via", "ws");
        assertThat(subBadName.exit()).isEqualTo(1);
        assertThat(subBadName.err()).startsWith("switchboard: invalid_topic: ");
    }

    @Test
    void benchFanoutRunsAgainstTheServerAndRefusesAPeerTargetWithAnHttpUrl() {
        Result run = cli("", "bench", "fanout", "--subscribers", "2", "--rate", "200", "--duration", "300ms",
                "--warmup", "0s", "--drain", "5s", "--json");
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out()).contains("\"transport\":\"ws\"").contains("\"total\":0");

        // Subscribed by a pattern over the topic (bench.* for bench.<random>): every message once, in order, as exact.
        Result byPattern = cli("", "bench", "fanout", "--transport", "sse", "--pattern", "--subscribers", "2",
                "--rate", "200", "--duration", "300ms", "--warmup", "0s", "--drain", "5s", "--json");
        assertThat(byPattern.exit()).as(byPattern.err()).isZero();
        assertThat(byPattern.out()).contains("\"transport\":\"sse_pattern\"").contains("\"total\":0");
        Result patternOverWs = cli("", "bench", "fanout", "--pattern");
        assertThat(patternOverWs.exit()).isEqualTo(2);
        assertThat(patternOverWs.err()).contains("--pattern is for --transport sse");

        Result wrongScheme = cli("", "bench", "fanout", "--target", "redis");
        assertThat(wrongScheme.exit()).isEqualTo(2);
        assertThat(wrongScheme.err()).contains("--server must be a redis:// URL");
    }

    @Test
    void anUnreachableServerIsAClearFailure() {
        server.close();
        Result pub = cli("", "pub", "t", "x");
        assertThat(pub.exit()).isEqualTo(1);
        assertThat(pub.err()).isEqualTo("switchboard: cannot reach " + server.url() + ": connection refused\n");
        server = TestServer.start();
    }

    private long subscribers(String topic, String transport) {
        var response = server.get("/v1/topics/" + topic);
        try {
            return JSON.readTree(response.body()).path("subscribers").path(transport).asLong();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void topShowsEachConnectionTheTopicsAndTheStageTiming() throws Exception {
        server.post("/v1/topics/top.watched/messages", "text/plain", "one");
        try (java.net.Socket poll = new java.net.Socket("127.0.0.1", server.port())) {
            poll.getOutputStream().write(("GET /v1/topics/top.watched/messages?from=2&wait=60s HTTP/1.1\r\n"
                    + "Host: localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            await().atMost(Duration.ofSeconds(10)).until(() -> server.get("/v1/admin/connections").body()
                    .contains("\"transport\":\"longpoll\""));
            Result top = cli("", "top", "--count", "2", "--interval", "250ms");
            assertThat(top.exit()).as(top.err()).isZero();
            String[] frames = top.out().split("\n\n(?=switchboard top)");
            assertThat(frames).hasSize(2);
            String last = frames[1];
            assertThat(last).startsWith("switchboard top  " + server.url());
            String pollRow = last.lines().filter(l -> l.contains("127.0.0.1:" + poll.getLocalPort())).findFirst()
                    .orElseThrow(() -> new AssertionError("no row for the test's connection in\n" + last));
            assertThat(pollRow.trim().split(" +")[1]).isEqualTo("longpoll");
            assertThat(pollRow.trim()).endsWith("on"); // TCP_NODELAY
            assertThat(last.lines().filter(l -> l.startsWith("top.watched")).findFirst()).hasValueSatisfying(
                    l -> assertThat(l.trim().split(" +")).startsWith("top.watched", "1"));
            assertThat(last).contains("STAGE").contains("store");
        }
        Result tooFast = cli("", "top", "--interval", "10ms");
        assertThat(tooFast.exit()).isEqualTo(2);
        assertThat(tooFast.err()).contains("--interval must be 250ms-1m");
    }

    private record Result(int exit, String out, String err) {
        List<String> lines() {
            return out.lines().toList();
        }
    }

    /** A command still running, its stdout readable as it grows. */
    private record Background(CompletableFuture<Integer> exit, Supplier<String> stdout, Supplier<String> stderr) {
        String out() {
            return stdout.get();
        }

        String err() {
            return stderr.get();
        }
    }

    private Result cli(String stdin, String... args) {
        return cli(stdin.getBytes(StandardCharsets.UTF_8), args);
    }

    /** Runs one command in this thread with stdin, stdout and stderr swapped for buffers. */
    private Result cli(byte[] stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        InputStream savedIn = System.in;
        PrintStream savedOut = System.out;
        PrintStream savedErr = System.err;
        System.setIn(new ByteArrayInputStream(stdin));
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int exit = Main.run(withServer(args));
            return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setIn(savedIn);
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
    }

    /**
     * Runs a command on its own thread. Commands take System.out when they start, so it stays swapped until the test
     * ends; meanwhile the test thread talks to the server directly, never through the CLI.
     */
    private Background background(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        Thread thread = new Thread(() -> exit.complete(Main.run(withServer(args))), "cli-" + String.join("-", args));
        thread.setDaemon(true);
        running.add(thread);
        thread.start();
        return new Background(exit, () -> out.toString(StandardCharsets.UTF_8),
                () -> err.toString(StandardCharsets.UTF_8));
    }

    private String[] withServer(String... args) {
        String[] all = Arrays.copyOf(args, args.length + 2);
        all[args.length] = "--server";
        all[args.length + 1] = server.url();
        return all;
    }
}
