package dev.switchboard.client;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * What a {@link JobHandler} returns to complete its job: the result's bytes and content type.
 *
 * @param type the content type; JSON types must carry one valid JSON value
 */
public record JobResult(byte[] data, String type) {
    public JobResult {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(type, "type");
    }

    public static JobResult text(String text) {
        return new JobResult(text.getBytes(StandardCharsets.UTF_8), "text/plain; charset=utf-8");
    }

    public static JobResult json(String json) {
        return new JobResult(json.getBytes(StandardCharsets.UTF_8), "application/json");
    }

    public static JobResult bytes(byte[] data) {
        return new JobResult(data, "application/octet-stream");
    }
}
