package dev.switchboard.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ChunkedBodyTest {
    /** Two chunks (one with an extension, sizes in either case of hex), the last chunk, a trailer field. */
    private static final String BODY = "5\r\nhello\r\n1a;name=value\r\n, world, in two chunks...!\r\n0\r\n"
            + "Trailer-Field: x\r\n\r\n";
    private static final String DECODED = "hello, world, in two chunks...!";

    @Test
    void decodesTheBodyCutAtEveryByte() {
        byte[] bytes = BODY.getBytes(StandardCharsets.US_ASCII);
        for (int cut = 0; cut <= bytes.length; cut++) {
            Collected collected = new Collected();
            ChunkedBody body = new ChunkedBody(collected);
            body.feed(Unpooled.wrappedBuffer(bytes, 0, cut));
            body.feed(Unpooled.wrappedBuffer(bytes, cut, bytes.length - cut));
            assertThat(collected.data.toString()).as("cut at %d", cut).isEqualTo(DECODED);
            assertThat(collected.ended).as("cut at %d", cut).isTrue();
        }
    }

    @Test
    void theBodyGoesOnUntilTheLastChunk() {
        Collected collected = new Collected();
        new ChunkedBody(collected).feed(ascii("3\r\nabc\r\n"));
        assertThat(collected.data.toString()).isEqualTo("abc");
        assertThat(collected.ended).isFalse();
    }

    @Test
    void refusesMalformedFraming() {
        assertThatIllegalStateException().isThrownBy(() -> new ChunkedBody(new Collected()).feed(ascii("\r\n")))
                .withMessageContaining("without a size");
        assertThatIllegalStateException().isThrownBy(() -> new ChunkedBody(new Collected()).feed(ascii("x\r\n")))
                .withMessageContaining("without a size");
        assertThatIllegalStateException().isThrownBy(() -> new ChunkedBody(new Collected()).feed(ascii("10000000\r\n")))
                .withMessageContaining("hex digits");
        assertThatIllegalStateException().isThrownBy(() -> new ChunkedBody(new Collected()).feed(ascii("1\r\nab\r\n")))
                .withMessageContaining("CRLF");
    }

    private static ByteBuf ascii(String text) {
        return Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII);
    }

    private static final class Collected implements ChunkedBody.Sink {
        final StringBuilder data = new StringBuilder();
        boolean ended;

        @Override
        public void data(ByteBuf buf, int from, int length) {
            data.append(buf.toString(from, length, StandardCharsets.US_ASCII));
        }

        @Override
        public void end() {
            ended = true;
        }
    }
}
