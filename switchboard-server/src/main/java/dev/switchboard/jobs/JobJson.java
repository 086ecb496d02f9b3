package dev.switchboard.jobs;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.wire.Payloads;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Jobs as JSON: the public form of docs/api.md ({@code {"id","queue","status","attempt","progress","version","created",
 * "updated","result"?,"error"?}}), the worker's claim form (plus payload and lease), and the stored record.
 */
public final class JobJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private JobJson() {}

    /**
     * The public JSON of a job as a change left it. A job whose events are in its record answers with its latest
     * event's bytes, encoded once by the change: a heartbeat, the one change without an event, changes nothing public.
     */
    public static byte[] publicForm(Job j) {
        if (j.unwritten() != null && !j.unwritten().isEmpty()) {
            return j.unwritten().getLast().data();
        }
        return encodePublic(j);
    }

    /** The public JSON of a job's new state, for its event. */
    static byte[] encodePublic(Job j) {
        return write(g -> writePublic(g, j));
    }

    /** What a claim answers: the public form, the payload as {@code payload} (data form) and the lease. */
    public static byte[] claimForm(JobService.Claimed c) {
        return write(g -> writeClaim(g, c));
    }

    /** What a claim of several ({@code ?max=}) answers: {@code {"jobs":[claim form…]}}, oldest first. */
    public static byte[] claimsForm(List<JobService.Claimed> claimed) {
        return write(g -> {
            g.writeArrayFieldStart("jobs");
            for (JobService.Claimed c : claimed) {
                g.writeStartObject();
                writeClaim(g, c);
                g.writeEndObject();
            }
            g.writeEndArray();
        });
    }

    private static void writeClaim(JsonGenerator g, JobService.Claimed c) throws IOException {
        Job j = c.job();
        writePublic(g, j);
        g.writeStringField("payloadType", j.payloadType());
        Payloads.writeData(g, "payload", "payloadEncoding", j.payloadType(), c.payload());
        g.writeStringField("lease", j.leaseToken());
        g.writeStringField("leaseExpires", Payloads.formatTime(j.leaseExpires()));
    }

    private static void writePublic(JsonGenerator g, Job j) throws IOException {
        g.writeStringField("id", j.id());
        g.writeStringField("queue", j.queue());
        g.writeStringField("status", j.status().wire());
        g.writeNumberField("attempt", j.attempt());
        g.writeObjectFieldStart("progress");
        if (j.percent() != null) {
            g.writeNumberField("percent", j.percent());
        } else {
            g.writeNullField("percent");
        }
        g.writeStringField("message", j.progressMessage());
        g.writeEndObject();
        g.writeNumberField("version", j.version());
        g.writeStringField("created", Payloads.formatTime(j.created()));
        g.writeStringField("updated", Payloads.formatTime(j.updated()));
        if (j.status() == JobStatus.SUCCEEDED) {
            writeResult(g, j.resultType(), j.resultBytes(), j.inlineResult());
        }
        if (j.error() != null) {
            g.writeStringField("error", j.error());
        }
    }

    private static void writeResult(JsonGenerator g, String type, long bytes, byte[] inline) throws IOException {
        g.writeStringField("resultType", type);
        g.writeNumberField("resultBytes", bytes);
        if (inline != null) {
            Payloads.writeData(g, "result", "resultEncoding", type, inline);
        }
    }

    /**
     * The result's fields of the public form, without braces: an engine that renders a job's events itself
     * (jobs.lua) puts them in as they are, so both engines show a result alike.
     */
    static String resultFields(String type, long bytes, byte[] inline) {
        byte[] object = write(g -> writeResult(g, type, bytes, inline));
        return new String(object, 1, object.length - 2, StandardCharsets.UTF_8);
    }

    /** A job as an engine that keeps jobs itself stores it (jobs.lua: a hash of these fields). */
    static Job fromFields(Map<String, byte[]> f) {
        return new Job(text(f, "id"), text(f, "queue"), JobStatus.fromWire(text(f, "status")),
                Integer.parseInt(text(f, "attempt")), f.containsKey("percent") ? Integer.valueOf(text(f, "percent"))
                : null, text(f, "msg"), number(f, "version"), number(f, "created"), number(f, "updated"),
                text(f, "ptype"), number(f, "pbytes"), text(f, "rtype"), number(f, "rbytes"), f.get("ires"),
                text(f, "error"), text(f, "token"), number(f, "expires"), number(f, "leasems"), number(f, "seq"),
                text(f, "key"), null);
    }

    private static String text(Map<String, byte[]> f, String field) {
        byte[] v = f.get(field);
        return v == null ? null : new String(v, StandardCharsets.UTF_8);
    }

    private static long number(Map<String, byte[]> f, String field) {
        byte[] v = f.get(field);
        return v == null ? 0 : Long.parseLong(new String(v, StandardCharsets.UTF_8));
    }

    static byte[] record(Job j) {
        byte[] fields = write(g -> {
            g.writeStringField("id", j.id());
            g.writeStringField("queue", j.queue());
            g.writeStringField("status", j.status().wire());
            g.writeNumberField("attempt", j.attempt());
            if (j.percent() != null) g.writeNumberField("percent", j.percent());
            if (j.progressMessage() != null) g.writeStringField("progressMessage", j.progressMessage());
            g.writeNumberField("version", j.version());
            g.writeNumberField("created", j.created());
            g.writeNumberField("updated", j.updated());
            g.writeStringField("payloadType", j.payloadType());
            g.writeNumberField("payloadBytes", j.payloadBytes());
            if (j.resultType() != null) g.writeStringField("resultType", j.resultType());
            g.writeNumberField("resultBytes", j.resultBytes());
            if (j.inlineResult() != null) g.writeStringField("inlineResult", Base64.getEncoder().encodeToString(j.inlineResult()));
            if (j.error() != null) g.writeStringField("error", j.error());
            if (j.leaseToken() != null) g.writeStringField("leaseToken", j.leaseToken());
            g.writeNumberField("leaseExpires", j.leaseExpires());
            g.writeNumberField("leaseMillis", j.leaseMillis());
            g.writeNumberField("seq", j.seq());
            if (j.idempotencyKey() != null) g.writeStringField("idempotencyKey", j.idempotencyKey());
        });
        return j.unwritten() == null ? fields : withEvents(fields, j.unwritten());
    }

    /**
     * The record's fields and {@code "events":[{"type","time","data"}…]}, each event's JSON copied as it was encoded
     * for the event: a change's public form is encoded once.
     */
    private static byte[] withEvents(byte[] fields, List<JobEvent> events) {
        int size = fields.length + 16;
        for (JobEvent e : events) {
            size += e.data().length + e.type().length() + 48;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(size);
        out.write(fields, 0, fields.length - 1);
        out.writeBytes(",\"events\":[".getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < events.size(); i++) {
            JobEvent e = events.get(i);
            // The types are the server's two constants (JobService): nothing in them needs escaping.
            String head = (i == 0 ? "" : ",") + "{\"type\":\"" + e.type() + "\",\"time\":" + e.time() + ",\"data\":";
            out.writeBytes(head.getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(e.data());
            out.write('}');
        }
        out.writeBytes("]}".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    static Job fromRecord(byte[] bytes) {
        try {
            JsonNode n = MAPPER.readTree(bytes);
            return new Job(n.get("id").asText(), n.get("queue").asText(), JobStatus.fromWire(n.get("status").asText()),
                    n.get("attempt").asInt(), n.has("percent") ? n.get("percent").asInt() : null,
                    text(n, "progressMessage"), n.get("version").asLong(), n.get("created").asLong(),
                    n.get("updated").asLong(), n.get("payloadType").asText(), n.get("payloadBytes").asLong(),
                    text(n, "resultType"), n.get("resultBytes").asLong(),
                    n.has("inlineResult") ? Base64.getDecoder().decode(n.get("inlineResult").asText()) : null,
                    text(n, "error"), text(n, "leaseToken"), n.get("leaseExpires").asLong(),
                    n.get("leaseMillis").asLong(), n.get("seq").asLong(), text(n, "idempotencyKey"),
                    n.has("events") ? eventsFromRecord(n.get("events")) : null);
        } catch (IOException e) {
            throw new UncheckedIOException("corrupt job record", e);
        }
    }

    /** A record without {@code events} is a job whose topic is written (so is every job stored before 2026-12-07). */
    private static List<JobEvent> eventsFromRecord(JsonNode events) throws IOException {
        List<JobEvent> out = new ArrayList<>();
        for (JsonNode e : events) {
            out.add(new JobEvent(e.get("type").asText(), e.get("time").asLong(),
                    MAPPER.writeValueAsBytes(e.get("data"))));
        }
        return List.copyOf(out);
    }

    static byte[] settingsRecord(QueueSettings s) {
        return write(g -> {
            g.writeNumberField("maxAttempts", s.maxAttempts());
            g.writeNumberField("leaseMillis", s.lease().toMillis());
            g.writeNumberField("resultTtlMillis", s.resultTtl().toMillis());
        });
    }

    static QueueSettings settingsFromRecord(byte[] bytes) {
        try {
            JsonNode n = MAPPER.readTree(bytes);
            return new QueueSettings(n.get("maxAttempts").asInt(),
                    java.time.Duration.ofMillis(n.get("leaseMillis").asLong()),
                    java.time.Duration.ofMillis(n.get("resultTtlMillis").asLong()));
        } catch (IOException e) {
            throw new UncheckedIOException("corrupt queue record", e);
        }
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private interface Fields {
        void write(JsonGenerator g) throws IOException;
    }

    private static byte[] write(Fields fields) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = MAPPER.getFactory().createGenerator(out)) {
            g.writeStartObject();
            fields.write(g);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
