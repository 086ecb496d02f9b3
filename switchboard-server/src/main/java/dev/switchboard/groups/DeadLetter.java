package dev.switchboard.groups;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.switchboard.broker.Message;
import dev.switchboard.wire.Payloads;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * What a message delivered too often becomes on {@code {topic}.dead}: a JSON document, the original envelope of
 * docs/api.md ({@code topic, offset, time, type, data[, encoding]}) plus {@code group} and {@code deliveries}.
 */
final class DeadLetter {
    private static final JsonFactory JSON = new JsonFactory();

    private DeadLetter() {}

    static byte[] json(String group, Message m, int deliveries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(192 + m.payload().length * 4 / 3);
        try (JsonGenerator gen = JSON.createGenerator(out)) {
            gen.writeStartObject();
            gen.writeStringField("topic", m.topic());
            gen.writeNumberField("offset", m.offset());
            gen.writeStringField("time", Payloads.formatTime(m.time()));
            gen.writeStringField("type", m.type());
            Payloads.writeData(gen, "data", "encoding", m.type(), m.payload());
            gen.writeStringField("group", group);
            gen.writeNumberField("deliveries", deliveries);
            gen.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
