package dev.switchboard.log;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.broker.Message;
import dev.switchboard.broker.MessageHeaders;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The stored form of a message: records written before headers existed still read, records with headers round-trip. */
class MessageRecordTest {
    @Test
    void aRecordInTheFormerFormatReadsAsAMessageWithoutHeaders() {
        byte[] type = "text/plain".getBytes(StandardCharsets.UTF_8);
        byte[] payload = "old".getBytes(StandardCharsets.UTF_8);
        // time, type length, type, payload: what every record held before headers
        byte[] former = ByteBuffer.allocate(10 + type.length + payload.length).putLong(1234)
                .putShort((short) type.length).put(type).put(payload).array();
        Message m = MessageRecord.decode("t", 7, former);
        assertThat(m.time()).isEqualTo(1234);
        assertThat(m.type()).isEqualTo("text/plain");
        assertThat(m.payload()).isEqualTo(payload);
        assertThat(m.headers()).isEmpty();
        assertThat(MessageRecord.payloadLength(former)).isEqualTo(3);
        assertThat(MessageRecord.value(1234, "text/plain", payload, MessageHeaders.NONE)).isEqualTo(former);
    }

    @Test
    void aRecordWithHeadersRoundTrips() {
        Map<String, List<String>> headers = Map.of("A", List.of("1", "2"));
        byte[] payload = {0, 1, 2};
        byte[] value = MessageRecord.value(99, "x".repeat(255), payload, headers);
        Message m = MessageRecord.decode("t", 1, value);
        assertThat(m.type()).isEqualTo("x".repeat(255));
        assertThat(m.headers()).isEqualTo(headers);
        assertThat(m.payload()).isEqualTo(payload);
        assertThat(MessageRecord.payloadLength(value)).isEqualTo(3);
    }
}
