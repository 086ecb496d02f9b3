package dev.switchboard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SubscriberLoopTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final StringWriter err = new StringWriter();

    @Test
    void printsPayloadsOnOneLine() {
        assertThat(SubscriberLoop.payload(json("{\"offset\":1,\"type\":\"text/plain\",\"data\":\"h\u00e9llo\"}"))).isEqualTo("h\u00e9llo");
        assertThat(SubscriberLoop.payload(json("{\"offset\":1,\"type\":\"application/json\",\"data\": { \"a\" : [1, 2] }}")))
                .isEqualTo("{\"a\":[1,2]}");
        assertThat(SubscriberLoop.payload(json("{\"offset\":1,\"type\":\"application/json\",\"data\":42}"))).isEqualTo("42");
        assertThat(SubscriberLoop.payload(json("{\"offset\":1,\"type\":\"image/png\",\"encoding\":\"base64\",\"data\":\"iVBORw==\"}")))
                .isEqualTo("iVBORw==");
    }

    @Test
    void printsEachOffsetOnceAndStopsAtCount() {
        SubscriberLoop loop = loop(From.EARLIEST, 2, false);
        for (long offset : new long[] {5, 5, 4, 6, 7}) {
            loop.message(json("{\"offset\":" + offset + ",\"data\":\"m" + offset + "\"}"));
        }
        assertThat(out()).isEqualTo("m5\nm6\n");
        assertThat(loop.done()).isTrue();
    }

    @Test
    void printsEnvelopesCompact() {
        SubscriberLoop loop = loop(From.NEXT, 0, true);
        loop.message(json("{ \"topic\" : \"t\", \"offset\" : 3, \"data\" : {\"x\": 1} }"));
        assertThat(out()).isEqualTo("{\"topic\":\"t\",\"offset\":3,\"data\":{\"x\":1}}\n");
    }

    @Test
    void resumesAfterTheLastMessageOrGap() {
        SubscriberLoop loop = loop(From.NEXT, 0, false);
        loop.subscribed(10);
        assertThat(loop.position()).isEqualTo(From.at(10));
        loop.subscribed(99);
        assertThat(loop.position()).isEqualTo(From.at(10));
        loop.message(json("{\"offset\":10,\"data\":\"a\"}"));
        assertThat(loop.position()).isEqualTo(From.at(11));
        loop.gap(11, 20);
        assertThat(loop.position()).isEqualTo(From.at(20));
        assertThat(err.toString()).isEqualTo("switchboard: gap: offsets 11..19 dropped by retention\n");
    }

    @Test
    void reconnectsFromTheResumePointAndWarnsOncePerOutage() throws InterruptedException {
        SubscriberLoop loop = loop(From.NEXT, 2, false);
        List<From> attempts = new ArrayList<>();
        loop.run(l -> {
            attempts.add(l.position());
            switch (attempts.size()) {
                case 1, 2 -> throw new IOException("refused");
                case 3 -> {
                    l.connected();
                    l.subscribed(1);
                    l.message(json("{\"offset\":1,\"data\":\"one\"}"));
                    throw new IOException("dropped");
                }
                default -> {
                    l.connected();
                    l.message(json("{\"offset\":1,\"data\":\"one again\"}"));
                    l.message(json("{\"offset\":2,\"data\":\"two\"}"));
                }
            }
        });
        assertThat(attempts).containsExactly(From.NEXT, From.NEXT, From.NEXT, From.at(2));
        assertThat(out()).isEqualTo("one\ntwo\n");
        assertThat(err.toString()).isEqualTo(
                "switchboard: refused; reconnecting (from=next)\nswitchboard: dropped; reconnecting (from=2)\n");
    }

    private SubscriberLoop loop(From from, long count, boolean envelope) {
        return new SubscriberLoop(from, count, envelope, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintWriter(err));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private static ObjectNode json(String text) {
        try {
            return (ObjectNode) Http.JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
