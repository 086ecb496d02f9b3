package dev.switchboard.codec.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.broker.PublishResult;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A publish's 201, written from pre-encoded parts: docs/api.md's {@code {"topic","offset","time"}}, byte for byte. */
class PublishedAnswerTest {
    private static final UnpooledByteBufAllocator ALLOC = new UnpooledByteBufAllocator(false);

    @Test
    void theBodyIsTopicOffsetAndTime() {
        assertThat(body(new PublishResult("chat.room-1", 42, 1_700_000_000_005L, false)))
                .isEqualTo("{\"topic\":\"chat.room-1\",\"offset\":42,\"time\":\"2023-11-14T22:13:20.005Z\"}");
        assertThat(body(new PublishResult("a_b-c", Long.MAX_VALUE, 0, false)))
                .isEqualTo("{\"topic\":\"a_b-c\",\"offset\":9223372036854775807,\"time\":\"1970-01-01T00:00:00.000Z\"}");
    }

    @Test
    void aReplayedPublishSaysSo() {
        FullHttpResponse r = TopicEndpoints.published(ALLOC, new PublishResult("t", 1, 2, true));
        try {
            assertThat(r.status().code()).isEqualTo(201);
            assertThat(r.headers().get("Idempotent-Replayed")).isEqualTo("true");
            assertThat(r.headers().getInt("Content-Length")).isEqualTo(r.content().readableBytes());
        } finally {
            r.release();
        }
    }

    private static String body(PublishResult result) {
        FullHttpResponse r = TopicEndpoints.published(ALLOC, result);
        try {
            assertThat(r.headers().get("Idempotent-Replayed")).isNull();
            return new String(ByteBufUtil.getBytes(r.content()), StandardCharsets.UTF_8);
        } finally {
            r.release();
        }
    }
}
