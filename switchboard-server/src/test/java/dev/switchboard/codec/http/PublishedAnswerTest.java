package dev.switchboard.codec.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.broker.PublishResult;
import dev.switchboard.wire.Payloads;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A publish's 201, put together byte by byte, is the JSON docs/api.md gives, whatever the offset's digits. */
class PublishedAnswerTest {
    @Test
    void theBodyIsTheTopicOffsetAndTimeForEveryWidthOfOffset() {
        String longest = "t".repeat(255);
        long[] offsets = {0, 9, 10, 1234567890123L, Long.MAX_VALUE};
        long[] times = {0, 1_790_000_000_007L, 1_790_000_000_999L};
        for (String topic : new String[] {"a", "orders.eu-west_1", longest}) {
            for (long offset : offsets) {
                for (long time : times) {
                    FullHttpResponse r = TopicEndpoints.published(ByteBufAllocator.DEFAULT,
                            new PublishResult(topic, offset, time, false));
                    try {
                        String expected = "{\"topic\":\"" + topic + "\",\"offset\":" + offset + ",\"time\":\""
                                + Payloads.formatTime(time) + "\"}";
                        assertThat(r.content().toString(StandardCharsets.US_ASCII)).isEqualTo(expected);
                        assertThat(r.headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(expected.length());
                        assertThat(r.status().code()).isEqualTo(201);
                        assertThat(r.headers().contains("Idempotent-Replayed")).isFalse();
                    } finally {
                        r.release();
                    }
                }
            }
        }
    }

    @Test
    void aReplayedPublishSaysSo() {
        FullHttpResponse r = TopicEndpoints.published(ByteBufAllocator.DEFAULT, new PublishResult("t", 1, 0, true));
        try {
            assertThat(r.headers().get("Idempotent-Replayed")).isEqualTo("true");
        } finally {
            r.release();
        }
    }
}
