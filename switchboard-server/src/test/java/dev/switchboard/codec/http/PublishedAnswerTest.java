package dev.switchboard.codec.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.broker.PublishResult;
import dev.switchboard.wire.Payloads;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A publish's 201, written from pre-encoded parts: docs/api.md's {@code {"topic","offset","time"}}, byte for byte. */
class PublishedAnswerTest {
    @Test
    void theBodyIsTopicOffsetAndTime() {
        assertThat(body(new PublishResult("chat.room-1", 42, 1_700_000_000_005L, false)))
                .isEqualTo("{\"topic\":\"chat.room-1\",\"offset\":42,\"time\":\"2023-11-14T22:13:20.005Z\"}");
        assertThat(body(new PublishResult("a_b-c", Long.MAX_VALUE, 0, false)))
                .isEqualTo("{\"topic\":\"a_b-c\",\"offset\":9223372036854775807,\"time\":\"1970-01-01T00:00:00.000Z\"}");
    }

    @Test
    void theBodyIsTheTopicOffsetAndTimeForEveryWidthOfOffset() {
        String longest = "t".repeat(255);
        long[] offsets = {0, 9, 10, 1234567890123L, Long.MAX_VALUE};
        long[] times = {0, 1_790_000_000_007L, 1_790_000_000_999L};
        for (String topic : new String[] {"a", "orders.eu-west_1", longest}) {
            for (long offset : offsets) {
                for (long time : times) {
                    String expected = "{\"topic\":\"" + topic + "\",\"offset\":" + offset + ",\"time\":\""
                            + Payloads.formatTime(time) + "\"}";
                    assertThat(body(new PublishResult(topic, offset, time, false))).isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void aReplayedPublishSaysSo() {
        FullHttpResponse r = TopicEndpoints.published(ByteBufAllocator.DEFAULT, new PublishResult("t", 1, 2, true));
        try {
            assertThat(r.status().code()).isEqualTo(201);
            assertThat(r.headers().get("Idempotent-Replayed")).isEqualTo("true");
            assertThat(r.headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(r.content().readableBytes());
        } finally {
            r.release();
        }
    }

    private static String body(PublishResult result) {
        FullHttpResponse r = TopicEndpoints.published(ByteBufAllocator.DEFAULT, result);
        try {
            assertThat(r.status().code()).isEqualTo(201);
            assertThat(r.headers().contains("Idempotent-Replayed")).isFalse();
            assertThat(r.headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(r.content().readableBytes());
            return r.content().toString(StandardCharsets.UTF_8);
        } finally {
            r.release();
        }
    }
}
