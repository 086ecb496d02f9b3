package dev.switchboard.jmh;

import dev.switchboard.broker.Message;
import dev.switchboard.broker.MessageHeaders;
import dev.switchboard.codec.Envelope;
import dev.switchboard.codec.sse.SseEvents;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Encoding one message to its wire forms: the WebSocket JSON ({@code {"op":"message", …envelope}}, the payload of the
 * text frame; {@code WebSocketFrames} itself is package-private and only adds a 2–10 byte header and a copy) and the
 * SSE event, in the payload format and the envelope format ({@code ?format=envelope}). Each is done once per message
 * and shared by all subscribers (docs/architecture.md, "Encode once"), so this is the per-message, not per-subscriber,
 * cost. {@code headers=none} is the path of every message without headers, which headers must not slow down.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class EnvelopeBenchmark {

    /** json: embedded as a JSON value; text: a JSON string (escaped); binary: base64. */
    @Param({"json", "text", "binary"})
    public String kind;

    @Param({"64", "1024"})
    public int size;

    /** none: the common case; two: a trace id and a two-valued tag, as a NATS HPUB or an HTTP publish sets them. */
    @Param({"none", "two"})
    public String headers;

    private Message message;

    @Setup
    public void setUp() {
        byte[] payload;
        String type;
        switch (kind) {
            case "json" -> {
                StringBuilder sb = new StringBuilder("{\"text\":\"");
                while (sb.length() < size - 2) {
                    sb.append('a');
                }
                payload = sb.append("\"}").toString().getBytes(StandardCharsets.UTF_8);
                type = "application/json";
            }
            case "text" -> {
                StringBuilder sb = new StringBuilder();
                for (int i = 0; sb.length() < size; i++) {
                    sb.append(i % 40 == 39 ? '\n' : (char) ('a' + i % 26)); // multi-line: several SSE data lines
                }
                payload = sb.toString().getBytes(StandardCharsets.UTF_8);
                type = "text/plain; charset=utf-8";
            }
            case "binary" -> {
                payload = new byte[size];
                Arrays.fill(payload, (byte) 0xff); // not UTF-8
                type = "application/octet-stream";
            }
            default -> throw new IllegalArgumentException(kind);
        }
        Map<String, List<String>> fields = headers.equals("none") ? MessageHeaders.NONE
                : Map.of("Trace-Id", List.of("4bf92f3577b34da6a3ce929d0e0e4736"), "Tag", List.of("eu", "priority"));
        message = new Message("chat.room-1", 42, 1_790_000_000_123L, type, payload, fields);
    }

    @Benchmark
    public byte[] webSocketMessage() {
        return Envelope.encodeWithOp(message, "message");
    }

    @Benchmark
    public byte[] sseEvent() {
        return SseEvents.message(message);
    }

    @Benchmark
    public byte[] sseEnvelopeEvent() {
        return SseEvents.envelope(message);
    }
}
