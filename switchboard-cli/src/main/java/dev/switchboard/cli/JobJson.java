package dev.switchboard.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.client.Job;
import dev.switchboard.wire.Payloads;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** A library {@link Job} as docs/api.md's job JSON, for {@code jobs status} and the progress bar. */
final class JobJson {
    private JobJson() {}

    static ObjectNode of(Job job) {
        ObjectNode j = JsonNodeFactory.instance.objectNode()
                .put("id", job.id()).put("queue", job.queue()).put("status", job.status().wire())
                .put("attempt", job.attempt());
        if (job.progressPercent() >= 0 || job.progressMessage() != null) {
            ObjectNode progress = j.putObject("progress");
            if (job.progressPercent() >= 0) {
                progress.put("percent", job.progressPercent());
            }
            if (job.progressMessage() != null) {
                progress.put("message", job.progressMessage());
            }
        }
        j.put("version", job.version()).put("created", job.created()).put("updated", job.updated());
        if (job.error() != null) {
            j.put("error", job.error());
        }
        if (job.resultType() != null) {
            j.put("resultType", job.resultType()).put("resultBytes", job.resultBytes());
        }
        if (job.result() != null) {
            byte[] result = job.result();
            switch (Payloads.formOf(job.resultType(), result)) {
                case JSON -> j.putRawValue("result", new com.fasterxml.jackson.databind.util.RawValue(
                        new String(result, StandardCharsets.UTF_8)));
                case TEXT -> j.put("result", new String(result, StandardCharsets.UTF_8));
                case BASE64 -> j.put("result", Base64.getEncoder().encodeToString(result)).put("resultEncoding", "base64");
            }
        }
        return j;
    }
}
