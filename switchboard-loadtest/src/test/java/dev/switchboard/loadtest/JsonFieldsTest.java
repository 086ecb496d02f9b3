package dev.switchboard.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class JsonFieldsTest {

    private static ByteBuf json(String text) {
        return Unpooled.copiedBuffer(text, StandardCharsets.UTF_8);
    }

    @Test
    void readsTheFieldsOfAMessageEnvelope() {
        ByteBuf message = json("{\"op\":\"message\",\"topic\":\"bench.a\",\"offset\":42,\"time\":\"2026-11-23T14:00:00.123Z\","
                + "\"type\":\"text/plain\",\"data\":\"123456789 xxxx\"}");
        assertThat(JsonFields.stringEquals(message, "op", "message")).isTrue();
        assertThat(JsonFields.stringEquals(message, "op", "messages")).isFalse();
        assertThat(JsonFields.longValue(message, "offset")).isEqualTo(42);
        assertThat(Payload.sentNanos(message, JsonFields.valueIndex(message, "data") + 1)).isEqualTo(123456789L);
    }

    @Test
    void skipsStringValuesThatLookLikeTheKeyAndAllowsSpaces() {
        ByteBuf message = json("{ \"topic\" : \"offset\", \"offset\" : 7 }");
        assertThat(JsonFields.longValue(message, "offset")).isEqualTo(7);
    }

    @Test
    void aMissingFieldIsNotANumber() {
        assertThat(JsonFields.valueIndex(json("{\"op\":\"ack\"}"), "offset")).isEqualTo(-1);
        assertThatThrownBy(() -> JsonFields.longValue(json("{\"offset\":\"x\"}"), "offset"))
                .isInstanceOf(NumberFormatException.class);
    }
}
