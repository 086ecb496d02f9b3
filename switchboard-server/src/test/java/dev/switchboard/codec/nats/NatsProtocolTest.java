package dev.switchboard.codec.nats;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.Tokens;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The NATS port over a raw socket, byte for byte: what nats-server 2.9 answers to the same input (compared by hand
 * with a raw socket against /usr/sbin/nats-server), malformed input refused and closed, limits, verbose mode.
 */
@Timeout(60)
class NatsProtocolTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(c -> c.withNatsPort(0));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** A raw connection past the server's INFO line. */
    private static final class Raw implements AutoCloseable {
        final Socket socket;
        final InputStream in;
        final String info;

        Raw(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(5000);
            in = socket.getInputStream();
            info = line();
        }

        void send(String s) throws IOException {
            socket.getOutputStream().write(s.getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
        }

        String line() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (int c; (c = in.read()) != '\n'; ) {
                if (c < 0) {
                    return "<EOF>";
                }
                b.write(c);
            }
            return b.toString(StandardCharsets.UTF_8).stripTrailing();
        }

        /** Whether the server closed the connection (end of stream within the timeout). */
        boolean closed() throws IOException {
            try {
                return in.read() < 0;
            } catch (SocketTimeoutException e) {
                return false;
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    static List<String[]> malformed() {
        String big = "a".repeat(NatsEndpoint.MAX_CONTROL_LINE + 10);
        return List.of(
                new String[] {"FOO\r\n", "Unknown Protocol Operation"},
                new String[] {"MSG a 1 1\r\n", "Unknown Protocol Operation"},
                new String[] {"+OK\r\n", "Unknown Protocol Operation"},
                new String[] {"\r\n", "Unknown Protocol Operation"},
                new String[] {"PUB\r\n", "Parser Error"},
                new String[] {"PUB a\r\n", "Parser Error"},
                new String[] {"PUB a b c d\r\n", "Parser Error"},
                new String[] {"PUB a x\r\n", "Parser Error"},
                new String[] {"PUB a -1\r\n", "Parser Error"},
                new String[] {"PUB a 99999999999\r\n", "Parser Error"},
                new String[] {"PUB a 3\r\nabcd\r\n", "Unknown Protocol Operation"},
                new String[] {"PUB a 2000000\r\n", "Maximum Payload Violation"},
                new String[] {"HPUB a 5 3\r\n", "Parser Error"},
                new String[] {"SUB\r\n", "Parser Error"},
                new String[] {"SUB a\r\n", "Parser Error"},
                new String[] {"SUB a b c d\r\n", "Parser Error"},
                new String[] {"UNSUB\r\n", "Parser Error"},
                new String[] {"UNSUB 1 x\r\n", "Parser Error"},
                new String[] {"PING x\r\n", "Parser Error"},
                new String[] {"CONNECT\r\n", "Parser Error"},
                new String[] {"CONNECT {bad\r\n", "Parser Error"},
                new String[] {"CONNECT []\r\n", "Parser Error"},
                new String[] {"SUB " + big + " 1\r\n", "Maximum Control Line Exceeded"});
    }

    @ParameterizedTest
    @MethodSource("malformed")
    void malformedInputIsAnsweredWithAnErrorAndClosed(String input, String error) throws IOException {
        try (Raw raw = new Raw(server.natsPort())) {
            raw.send(input);
            assertThat(raw.line()).startsWith("-ERR '" + error);
            assertThat(raw.closed()).as("closed after the error").isTrue();
        }
    }

    @Test
    void infoAnnouncesTheLimitsAndHeaders() throws IOException {
        try (Raw raw = new Raw(server.natsPort())) {
            assertThat(raw.info).startsWith("INFO {").contains("\"max_payload\":1048576", "\"proto\":1",
                    "\"headers\":true", "\"auth_required\":false");
        }
    }

    @Test
    void verboseModeAcknowledgesEachOpAndAPublishOnlyOnceStored() throws IOException {
        try (Raw raw = new Raw(server.natsPort())) {
            raw.send("CONNECT {\"verbose\":true}\r\nSUB raw.verbose 1\r\nPUB raw.verbose 2\r\nhi\r\nPING\r\n");
            assertThat(raw.line()).isEqualTo("+OK"); // CONNECT
            assertThat(raw.line()).isEqualTo("+OK"); // SUB
            List<String> rest = List.of(raw.line(), raw.line(), raw.line(), raw.line());
            // The +OK of the PUB, the message and the PONG: the PONG comes after the store, so after the +OK.
            assertThat(rest).containsSubsequence("+OK", "PONG");
            assertThat(rest).containsSubsequence("MSG raw.verbose 1 2", "hi");
        }
        assertThat(server.get("/v1/topics/raw.verbose").body()).contains("\"lastOffset\":1");
    }

    @Test
    void aSubjectThatIsNoTopicNameIsRefusedAndTheConnectionStays() throws IOException {
        try (Raw raw = new Raw(server.natsPort())) {
            raw.send("SUB a..b 1\r\n");
            assertThat(raw.line()).isEqualTo("-ERR 'Invalid Subject'");
            raw.send("PUB a:b 1\r\nx\r\n");
            assertThat(raw.line()).isEqualTo("-ERR 'Invalid Subject'");
            raw.send("PUB a.* 1\r\nx\r\n");
            assertThat(raw.line()).isEqualTo("-ERR 'Invalid Subject'");
            raw.send("SUB a.>.b 2\r\n");
            assertThat(raw.line()).isEqualTo("-ERR 'Invalid Subject'");
            raw.send("PING\r\n");
            assertThat(raw.line()).isEqualTo("PONG");
        }
    }

    @Test
    void theConnectionIsListedInTheXrayWithItsSubscriptionsAndKernelColumns() throws Exception {
        try (Raw raw = new Raw(server.natsPort())) {
            raw.send("SUB raw.xray 1\r\nPUB raw.xray 1\r\nx\r\n");
            assertThat(raw.line()).isEqualTo("MSG raw.xray 1 1");
            var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                    server.get("/v1/admin/connections").body());
            var nats = java.util.stream.StreamSupport.stream(json.path("connections").spliterator(), false)
                    .filter(c -> c.path("transport").asText().equals("nats")).toList();
            assertThat(nats).hasSize(1);
            assertThat(nats.getFirst().path("subscriptions").get(0).path("topic").asText()).isEqualTo("raw.xray");
            assertThat(nats.getFirst().path("messagesIn").asLong()).isEqualTo(1);
            assertThat(nats.getFirst().path("messagesOut").asLong()).isEqualTo(1);
            assertThat(nats.getFirst().path("kernel").path("sndBuf").asLong()).isPositive();
        }
    }

    @Test
    void hpubHeadersAreStoredAndGoOutAsHmsgToClientsThatTakeThemAndAsMsgToOthers() throws IOException {
        try (Raw withHeaders = new Raw(server.natsPort()); Raw without = new Raw(server.natsPort())) {
            withHeaders.send("CONNECT {\"headers\":true}\r\nSUB raw.h 1\r\nPING\r\n");
            assertThat(withHeaders.line()).isEqualTo("PONG");
            without.send("SUB raw.h 9\r\nPING\r\n");
            assertThat(without.line()).isEqualTo("PONG");
            String block = "NATS/1.0\r\nTrace: t-1\r\n\r\n";
            withHeaders.send("HPUB raw.h " + block.length() + " " + (block.length() + 2) + "\r\n" + block + "hi\r\n");
            assertThat(withHeaders.line()).isEqualTo("HMSG raw.h 1 " + block.length() + " " + (block.length() + 2));
            assertThat(withHeaders.line()).isEqualTo("NATS/1.0");
            assertThat(withHeaders.line()).isEqualTo("Trace: t-1");
            assertThat(withHeaders.line()).isEmpty();
            assertThat(withHeaders.line()).isEqualTo("hi");
            assertThat(without.line()).isEqualTo("MSG raw.h 9 2");
            assertThat(without.line()).isEqualTo("hi");
            withHeaders.send("HPUB raw.h 5 5\r\nHELLO\r\nPING\r\n");
            assertThat(withHeaders.line()).startsWith("-ERR 'Parser Error: an HPUB");
            assertThat(withHeaders.line()).isEqualTo("PONG");
        }
        assertThat(server.get("/v1/topics/raw.h/messages?from=earliest").body())
                .contains("\"headers\":{\"Trace\":[\"t-1\"]}").contains("\"data\":\"hi\"");
    }

    @Test
    void moreSubscriptionsThanTheLimitAreRefused() throws IOException {
        int limit = server.server().config().limits().maxSubscriptionsPerConnection();
        try (Raw raw = new Raw(server.natsPort())) {
            StringBuilder subs = new StringBuilder();
            for (int i = 1; i <= limit; i++) {
                subs.append("SUB _INBOX.limit.").append(i).append(' ').append(i).append("\r\n");
            }
            raw.send(subs + "SUB _INBOX.limit.over over\r\nPING\r\n");
            assertThat(raw.line()).isEqualTo("-ERR 'Maximum Subscriptions Exceeded'");
            assertThat(raw.line()).isEqualTo("PONG");
        }
    }

    @Test
    void aWildcardOverMoreTopicsThanTheLimitFollowsUpToItAndSaysSoOnce() throws IOException {
        int limit = server.server().config().limits().maxSubscriptionsPerConnection();
        try (Raw pub = new Raw(server.natsPort()); Raw sub = new Raw(server.natsPort())) {
            StringBuilder pubs = new StringBuilder();
            for (int i = 0; i <= limit + 1; i++) {
                pubs.append("PUB wide.t").append(i).append(" 1\r\nx\r\n");
            }
            pub.send(pubs + "PING\r\n");
            assertThat(pub.line()).isEqualTo("PONG");
            sub.send("SUB wide.* 1\r\nPING\r\n");
            assertThat(sub.line()).isEqualTo("-ERR 'Maximum Subscriptions Exceeded: sid 1 follows no more topics'");
            assertThat(sub.line()).isEqualTo("PONG");
            pub.send("PUB wide.t0 3\r\nnew\r\n");
            assertThat(sub.line()).isEqualTo("MSG wide.t0 1 3");
        }
    }

    @Test
    void withAuthAConnectionNeedsAValidTokenAndItsRightsApplyBySubject() throws IOException {
        Tokens tokens = Tokens.hs256InTempDir();
        try (TestServer authed = TestServer.start(c -> c.withNatsPort(0).withAuth(tokens.config()))) {
            try (Raw raw = new Raw(authed.natsPort())) {
                assertThat(raw.info).contains("\"auth_required\":true");
                raw.send("SUB x 1\r\n");
                assertThat(raw.line()).isEqualTo("-ERR 'Authorization Violation'");
                assertThat(raw.closed()).isTrue();
            }
            try (Raw raw = new Raw(authed.natsPort())) {
                raw.send("CONNECT {\"auth_token\":\"not-a-jwt\"}\r\n");
                assertThat(raw.line()).isEqualTo("-ERR 'Authorization Violation'");
                assertThat(raw.closed()).isTrue();
            }
            String token = tokens.sign(Tokens.claims("svc", Tokens.rights(List.of("allowed.>"),
                    List.of("allowed.>"), List.of(), List.of(), false)));
            try (Raw raw = new Raw(authed.natsPort())) {
                raw.send("CONNECT {\"auth_token\":\"" + token + "\",\"verbose\":true}\r\n");
                assertThat(raw.line()).isEqualTo("+OK");
                raw.send("SUB denied 1\r\n");
                assertThat(raw.line()).isEqualTo("-ERR 'Permissions Violation for Subscription to \"denied\"'");
                raw.send("PUB denied 1\r\nx\r\n");
                assertThat(raw.line()).isEqualTo("-ERR 'Permissions Violation for Publish to \"denied\"'");
                raw.send("SUB allowed.* 2\r\nPUB allowed.one 2\r\nok\r\n");
                assertThat(List.of(raw.line(), raw.line(), raw.line(), raw.line()))
                        .containsSubsequence("MSG allowed.one 2 2", "ok");
            }
            assertThat(authed.server().broker().state("denied")).isEmpty();
        } finally {
            tokens.deleteSecret();
        }
    }
}
