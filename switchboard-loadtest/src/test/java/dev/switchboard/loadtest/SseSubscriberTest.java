package dev.switchboard.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.loadtest.Measurements.ErrorKind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * An SSE subscriber to a peer (Pushpin) checks each publisher's numbering on its own: with several publishers, the
 * messages of every one of them are counted, and the checks the report reads exist for each (a subscriber made for
 * one publisher failed the Pushpin run with "Index 1 out of bounds for length 1").
 */
class SseSubscriberTest {
    @Test
    void aPeersSubscriberChecksEachPublishersMessages() throws Exception {
        int publishers = 4;
        Measurements measurements = new Measurements();
        SseSubscriber subscriber = new SseSubscriber(measurements,
                ServerEndpoint.of(URI.create("http://127.0.0.1:7999")), "/stream?topic=t", SseSubscriber.Events.SEQUENCED, publishers);
        EmbeddedChannel ch = streaming(subscriber);
        Payload payload = new Payload(Payload.MIN_SEQUENCED_SIZE);
        for (long sequence = 1; sequence <= 3; sequence++) {
            for (int publisher = 0; publisher < publishers; publisher++) {
                ByteBuf data = Unpooled.buffer();
                payload.encodeSequenced(data, System.nanoTime(), publisher, sequence);
                ByteBuf event = Unpooled.copiedBuffer("event: message\ndata: " + data.toString(StandardCharsets.US_ASCII)
                        + "\n\n", StandardCharsets.US_ASCII);
                data.release();
                ch.writeInbound(chunk(event));
            }
        }
        assertThat(measurements.errors(ErrorKind.PROTOCOL)).as(measurements.errorSamples().toString()).isZero();
        assertThat(subscriber.received()).isEqualTo(3L * publishers);
        for (int publisher = 0; publisher < publishers; publisher++) {
            assertThat(subscriber.offsets(publisher).result(1, 3)).as("publisher " + publisher)
                    .isEqualTo(new OffsetCheck.Result(0, 0, 0));
        }
        ch.finishAndReleaseAll();
    }

    @Test
    void aSwitchboardSubscriberHasTheOneLogsCheck() throws Exception {
        Measurements measurements = new Measurements();
        SseSubscriber subscriber = new SseSubscriber(measurements,
                ServerEndpoint.of(URI.create("http://127.0.0.1:8080")), "/stream?topic=t", SseSubscriber.Events.OFFSET_ID, 1);
        EmbeddedChannel ch = streaming(subscriber);
        ch.writeInbound(chunk(Unpooled.copiedBuffer("id: 7\nevent: message\ndata: "
                + System.nanoTime() + " x\n\n", StandardCharsets.US_ASCII)));
        assertThat(measurements.errors(ErrorKind.PROTOCOL)).as(measurements.errorSamples().toString()).isZero();
        assertThat(subscriber.offsets(0).result(7, 7)).isEqualTo(new OffsetCheck.Result(0, 0, 0));
        ch.finishAndReleaseAll();
    }

    /** A stream over a pattern (bench fanout --pattern): the offset and the send time are read from the envelope. */
    @Test
    void aPatternSubscriberReadsTheEnvelope() throws Exception {
        Measurements measurements = new Measurements();
        SseSubscriber subscriber = new SseSubscriber(measurements,
                ServerEndpoint.of(URI.create("http://127.0.0.1:8080")), "/v1/events?topic=bench.*",
                SseSubscriber.Events.ENVELOPE, 1);
        EmbeddedChannel ch = streaming(subscriber);
        for (int offset = 1; offset <= 2; offset++) {
            ch.writeInbound(chunk(Unpooled.copiedBuffer("id: AQAFYmVuY2gC\nevent: message\ndata: "
                    + "{\"topic\":\"bench.x\",\"offset\":" + offset + ",\"time\":\"2026-11-23T14:00:00.123Z\","
                    + "\"type\":\"text/plain\",\"data\":\"" + System.nanoTime() + " 0 " + offset + " \"}\n\n",
                    StandardCharsets.US_ASCII)));
        }
        assertThat(measurements.errors(ErrorKind.PROTOCOL)).as(measurements.errorSamples().toString()).isZero();
        assertThat(subscriber.received()).isEqualTo(2);
        assertThat(subscriber.offsets(0).result(1, 2)).isEqualTo(new OffsetCheck.Result(0, 0, 0));
        ch.finishAndReleaseAll();
    }

    /**
     * The stream as raw bytes after the codec leaves: chunked, cut at every byte (head and events in one read, then
     * the rest), batch payloads that are JSON strings; each event counted once, in order, and the last chunk ends it.
     */
    @Test
    void readsAChunkedStreamCutAnywhere() throws Exception {
        StringBuilder body = new StringBuilder();
        for (int offset = 1; offset <= 3; offset++) {
            body.append(chunkText("id: " + offset + "\ndata: \"" + System.nanoTime() + " xx\"\n\n"));
        }
        byte[] stream = (HEAD + chunkText(": heartbeat\n\n") + body + "0\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        for (int cut = 1; cut < stream.length; cut++) {
            Measurements measurements = new Measurements();
            SseSubscriber subscriber = new SseSubscriber(measurements,
                    ServerEndpoint.of(URI.create("http://127.0.0.1:8080")), "/stream?topic=t",
                    SseSubscriber.Events.OFFSET_ID, 1);
            EmbeddedChannel ch = new EmbeddedChannel();
            subscriber.initPipeline(ch.pipeline());
            ch.writeInbound(Unpooled.wrappedBuffer(stream, 0, cut));
            ch.writeInbound(Unpooled.wrappedBuffer(stream, cut, stream.length - cut));
            assertThat(measurements.errors(ErrorKind.PROTOCOL)).as("cut at %d: %s", cut, measurements.errorSamples())
                    .isZero();
            assertThat(subscriber.received()).as("cut at %d", cut).isEqualTo(3);
            assertThat(subscriber.offsets(0).result(1, 3)).isEqualTo(new OffsetCheck.Result(0, 0, 0));
            assertThat(ch.isOpen()).as("the last chunk ends the stream").isFalse();
            ch.finishAndReleaseAll();
        }
    }

    private static final String HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n";

    /** A channel with the subscriber's own pipeline, past a {@code 200} head of a chunked stream. */
    private static EmbeddedChannel streaming(SseSubscriber subscriber) {
        EmbeddedChannel ch = new EmbeddedChannel();
        subscriber.initPipeline(ch.pipeline());
        ch.writeInbound(Unpooled.copiedBuffer(HEAD, StandardCharsets.US_ASCII));
        return ch;
    }

    private static String chunkText(String data) {
        return Integer.toHexString(data.length()) + "\r\n" + data + "\r\n";
    }

    private static ByteBuf chunk(ByteBuf data) {
        ByteBuf framed = Unpooled.copiedBuffer(chunkText(data.toString(StandardCharsets.US_ASCII)),
                StandardCharsets.US_ASCII);
        data.release();
        return framed;
    }
}
