package dev.switchboard.router;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.HandlerFixture;
import dev.switchboard.testing.TestConnection;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseDecoder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The router's pipelining on the server's own pipeline, without sockets: requests written back to back are answered
 * in the order they were sent, whatever the reads that carry them, including when an early answer comes later from
 * the broker's threads (a poll) and when some requests are refused. Each split of the bytes into two reads gets a
 * connection of its own.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PipelinedRequestsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOPIC = "pipelined.t";

    /** A request and a short form of the answer it must get: the status and the error code or the body's gist. */
    private record Sent(String request, String answer) {}

    private static final List<Sent> REQUESTS = List.of(
            new Sent("GET /v1/topics/" + TOPIC + "/messages?from=1 HTTP/1.1\r\nHost: localhost\r\n\r\n", "200 messages=[m1, m2]"),
            new Sent("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", "200 status=ok"),
            new Sent("GET /v1/topics/bad!/messages?from=1 HTTP/1.1\r\nHost: localhost\r\n\r\n", "400 invalid_topic"),
            new Sent("GET /v1/topics HTTP/1.1\r\nHost: localhost\r\n\r\n", "200 topics=[" + TOPIC + "]"),
            new Sent("PUT /v1/topics/a..b HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 17\r\n\r\n{\"maxMessages\":1}", "400 invalid_topic"),
            new Sent("POST /v1/topics/" + TOPIC + "/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n2\r\n{\"\r\n3\r\na\":\r\n0\r\n\r\n", "400 invalid_json"),
            new Sent("POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n\r\nx", "405 method_not_allowed"),
            new Sent("GET /nope HTTP/1.1\r\nHost: localhost\r\n\r\n", "404 not_found"),
            new Sent("GET /v1/topics/" + TOPIC + " HTTP/1.1\r\nHost: localhost\r\n\r\n", "200 topic=" + TOPIC),
            // Unparseable: answered, and the connection ends, so it is the last.
            new Sent("GET /healthz HTTP/1.1\r\nHost: localhost\r\nno colon here\r\n\r\n", "400 malformed_request"));

    private static HandlerFixture fixture;
    private static byte[] all;
    private static List<String> expected;

    @BeforeAll
    static void start() {
        fixture = HandlerFixture.open();
        fixture.publish(TOPIC, "m1");
        fixture.publish(TOPIC, "m2");
        StringBuilder b = new StringBuilder();
        REQUESTS.forEach(r -> b.append(r.request()));
        all = b.toString().getBytes(StandardCharsets.US_ASCII);
        expected = REQUESTS.stream().map(Sent::answer).toList();
    }

    @AfterAll
    static void stop() {
        fixture.close();
    }

    @Test
    void inOneReadTheAnswersComeInRequestOrder() {
        assertThat(answers(List.of(all))).isEqualTo(expected);
    }

    @Test
    void splitInTwoReadsAtEveryByteTheAnswersComeInRequestOrder() {
        for (int split = 1; split < all.length; split++) {
            List<byte[]> reads = List.of(Arrays.copyOfRange(all, 0, split), Arrays.copyOfRange(all, split, all.length));
            assertThat(answers(reads)).as("the requests split after byte %d of %d", split, all.length)
                    .isEqualTo(expected);
        }
    }

    @Test
    void oneByteAtATimeTheAnswersComeInRequestOrder() {
        List<byte[]> reads = new ArrayList<>();
        for (byte b : all) {
            reads.add(new byte[] {b});
        }
        assertThat(answers(reads)).isEqualTo(expected);
    }

    /** Writes the reads to a new connection and returns its answers in the order they were written. */
    private static List<String> answers(List<byte[]> reads) {
        TestConnection connection = fixture.connect();
        EmbeddedChannel client = new EmbeddedChannel(new HttpResponseDecoder(), new HttpObjectAggregator(1 << 20));
        List<String> answers = new ArrayList<>();
        try {
            for (byte[] read : reads) {
                if (!connection.isOpen()) {
                    break; // the unparseable request was refused before its last bytes arrived
                }
                connection.send(read);
            }
            connection.runUntil(() -> {
                client.writeInbound(Unpooled.wrappedBuffer(connection.written()));
                for (FullHttpResponse r; (r = client.readInbound()) != null; ) {
                    try {
                        answers.add(summary(r));
                    } finally {
                        r.release();
                    }
                }
                return answers.size() >= REQUESTS.size();
            });
            assertThat(connection.isOpen()).as("the unparseable request ends the connection").isFalse();
            return answers;
        } finally {
            connection.finishAndReleaseAll();
            client.finishAndReleaseAll();
        }
    }

    private static String summary(FullHttpResponse r) {
        JsonNode body;
        try {
            body = JSON.readTree(r.content().toString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String gist;
        if (body.has("error")) {
            gist = body.get("error").get("code").asText();
        } else if (body.has("status")) {
            gist = "status=" + body.get("status").asText();
        } else if (body.has("topics")) {
            gist = "topics=" + StreamSupport.stream(body.get("topics").spliterator(), false)
                    .map(t -> t.get("topic").asText()).toList();
        } else if (body.path("messages").isArray()) {
            gist = "messages=" + StreamSupport.stream(body.get("messages").spliterator(), false)
                    .map(m -> m.get("data").asText()).toList();
        } else {
            gist = "topic=" + body.get("topic").asText();
        }
        return r.status().code() + " " + gist;
    }
}
