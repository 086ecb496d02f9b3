package dev.switchboard.codec.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.broker.Handoff;
import dev.switchboard.jobs.Job;
import dev.switchboard.jobs.JobJson;
import dev.switchboard.jobs.JobService;
import dev.switchboard.jobs.JobStatus;
import dev.switchboard.jobs.QueueSettings;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.Durations;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.Payloads;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/** Jobs over HTTP: submit and follow (poll, long poll, SSE, result, cancel), and the worker side (claim, lease calls). */
public final class JobEndpoints {
    private static final String DEFAULT_TYPE = "application/octet-stream";
    private static final String LEASE_TOKEN = "Lease-Token";
    private static final Set<String> QUEUE_FIELDS = Set.of("maxAttempts", "lease", "resultTtl");

    private final JobService jobs;

    public JobEndpoints(JobService jobs) {
        this.jobs = jobs;
    }

    /** {@code POST /v1/queues/{queue}/jobs[?wait=]}: 202 with a handle, or 200 with the result if it came in time. */
    public void submit(Exchange ex, String queue) {
        Duration wait = durationParam(ex, "wait", Duration.ZERO);
        jobs.requireWait(wait); // before the submit: a refused request must not leave a job behind
        byte[] payload = ByteBufUtil.getBytes(ex.request().content());
        String type = contentType(ex);
        CompletableFuture<Job> submitted = jobs.submit(queue, type, payload, ex.header("Idempotency-Key"));
        // The wait starts on the connection's loop: its timer belongs there, and the writer that committed the
        // submit hands the loop this with the commit's other answers.
        Executor loop = ex.ctx().executor();
        ex.respondWhenDone(wait.isZero() ? submitted : submitted.thenComposeAsync(job ->
                jobs.awaitFinished(job, wait, ex.ctx().executor()), task -> Handoff.execute(loop, task)), wait, job -> {
            FullHttpResponse r = jobResponse(job.status().isTerminal() && !wait.isZero()
                    ? HttpResponseStatus.OK : HttpResponseStatus.ACCEPTED, JobJson.publicForm(job));
            r.headers().set(HttpHeaderNames.LOCATION, "/v1/jobs/" + job.id());
            ex.respond(r);
        });
    }

    /** {@code GET /v1/jobs/{id}[?wait=&version=]}: the job now, or once its version passes {@code version}. */
    public void get(Exchange ex, String id, Consumer<String> mayAccessQueue) {
        String waitText = ex.query("wait");
        Duration wait = waitText == null ? Duration.ZERO : Durations.parse(waitText, "wait");
        String versionText = ex.query("version");
        ex.respondWhenDone(find(id, mayAccessQueue).thenCompose(job -> {
            if (waitText == null) {
                return CompletableFuture.completedFuture(job);
            }
            long version = job.version();
            if (versionText != null) {
                try {
                    version = Long.parseLong(versionText);
                } catch (NumberFormatException e) {
                    throw new ApiException(ErrorCode.INVALID_VERSION, "version must be a whole number");
                }
            }
            return jobs.awaitVersion(job, version, wait, ex.ctx().executor());
        }), wait, j -> ex.respond(jobResponse(HttpResponseStatus.OK, JobJson.publicForm(j))));
    }

    /** {@code GET /v1/jobs/{id}/events}: hands the job to {@code stream} on the connection's loop. */
    public void events(Exchange ex, String id, Consumer<String> mayAccessQueue, BiConsumer<Exchange, Job> stream) {
        ex.respondWhenDone(find(id, mayAccessQueue), job -> stream.accept(ex, job));
    }

    /**
     * The job, once the caller may see or work on its queue ({@code mayAccessQueue} throws when not); 404 when
     * there is no such job. Looked up without blocking: on an engine shared by nodes it is a round trip.
     */
    private CompletableFuture<Job> find(String id, Consumer<String> mayAccessQueue) {
        return jobs.find(id).thenApply(job -> {
            mayAccessQueue.accept(job.queue());
            return job;
        });
    }

    /** {@code GET /v1/jobs/{id}/result}: the result bytes with their content type; 409 unless succeeded. */
    public void result(Exchange ex, String id, Consumer<String> mayAccessQueue) {
        ex.respondWhenDone(find(id, mayAccessQueue).thenCompose(job -> jobs.result(job).thenApply(bytes ->
                HttpResponses.withBody(HttpResponseStatus.OK, Unpooled.wrappedBuffer(bytes), job.resultType()))),
                ex::respond);
    }

    /** {@code DELETE /v1/jobs/{id}}: cancels a job that has not finished. */
    public void cancel(Exchange ex, String id, Consumer<String> mayAccessQueue) {
        ex.respondWhenDone(find(id, mayAccessQueue).thenCompose(job -> jobs.cancel(id)),
                j -> ex.respond(jobResponse(HttpResponseStatus.OK, JobJson.publicForm(j))));
    }

    /**
     * {@code POST /v1/queues/{queue}/claim?wait=&lease=&max=}: 200 with the job, payload and lease (with {@code max=},
     * {@code {"jobs":[…]}} of up to that many), or 204 when none came.
     */
    public void claim(Exchange ex, String queue) {
        Duration wait = durationParam(ex, "wait", Duration.ZERO);
        Duration lease = durationParam(ex, "lease", null);
        String maxText = ex.query("max");
        int max = maxText == null ? 1 : claimMax(maxText);
        ex.respondWhenDone(jobs.claim(queue, max, wait, lease, ex.ctx().executor()), wait, claimed -> ex.respond(
                claimed.isEmpty() ? HttpResponses.empty(HttpResponseStatus.NO_CONTENT)
                        : jobResponse(HttpResponseStatus.OK, maxText == null
                                ? JobJson.claimForm(claimed.getFirst()) : JobJson.claimsForm(claimed))));
    }

    private static int claimMax(String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new ApiException(ErrorCode.INVALID_QUERY, "max must be a whole number");
        }
    }

    /** {@code POST /v1/jobs/{id}/progress} with {@code {"percent","message"}}. */
    public void progress(Exchange ex, String id, Consumer<String> mayWork) {
        JsonNode body = jsonBody(ex);
        JsonNode percent = body.get("percent");
        if (percent != null && !percent.isNull() && !percent.isIntegralNumber()) {
            throw new ApiException(ErrorCode.INVALID_PROGRESS, "percent must be a whole number 0-100");
        }
        JsonNode message = body.get("message");
        if (message != null && !message.isNull() && !message.isTextual()) {
            throw new ApiException(ErrorCode.INVALID_PROGRESS, "message must be a string");
        }
        String token = ex.header(LEASE_TOKEN); // read on the loop: the answer to the lookup may come on another thread
        ex.respondWhenDone(find(id, mayWork).thenCompose(job -> jobs.progress(id, token,
                        percent == null || percent.isNull() ? null : percent.asInt(),
                        message == null || message.isNull() ? null : message.asText())),
                j -> ex.respond(jobResponse(HttpResponseStatus.OK, JobJson.publicForm(j))));
    }

    /** {@code POST /v1/jobs/{id}/heartbeat}: extends the lease by its length. */
    public void heartbeat(Exchange ex, String id, Consumer<String> mayWork) {
        String token = ex.header(LEASE_TOKEN);
        ex.respondWhenDone(find(id, mayWork).thenCompose(job -> jobs.heartbeat(id, token)), j -> {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("id", j.id());
            body.put("status", j.status().wire());
            body.put("leaseExpires", Payloads.formatTime(j.leaseExpires()));
            ex.respond(HttpResponses.json(ex.ctx().alloc(), HttpResponseStatus.OK, body));
        });
    }

    /** {@code POST /v1/jobs/{id}/complete}: the body is the result, with its content type. */
    public void complete(Exchange ex, String id, Consumer<String> mayWork) {
        byte[] result = ByteBufUtil.getBytes(ex.request().content());
        String token = ex.header(LEASE_TOKEN);
        String type = contentType(ex);
        ex.respondWhenDone(find(id, mayWork).thenCompose(job -> jobs.complete(id, token, type, result)),
                j -> ex.respond(jobResponse(HttpResponseStatus.OK, JobJson.publicForm(j))));
    }

    /** {@code POST /v1/jobs/{id}/fail} with {@code {"error","retry"}}. */
    public void fail(Exchange ex, String id, Consumer<String> mayWork) {
        JsonNode body = jsonBody(ex);
        JsonNode error = body.get("error");
        JsonNode retry = body.get("retry");
        if ((error != null && !error.isNull() && !error.isTextual())
                || (retry != null && !retry.isNull() && !retry.isBoolean())) {
            throw new ApiException(ErrorCode.INVALID_ERROR, "expected {\"error\":\"…\",\"retry\":true|false}");
        }
        String token = ex.header(LEASE_TOKEN);
        ex.respondWhenDone(find(id, mayWork).thenCompose(job -> jobs.fail(id, token,
                        error == null ? null : error.asText(null), retry != null && retry.asBoolean())),
                j -> ex.respond(jobResponse(HttpResponseStatus.OK, JobJson.publicForm(j))));
    }

    /** {@code GET /v1/queues/{queue}}. */
    public void queue(Exchange ex, String queue) {
        ex.respondWhenDone(jobs.queue(queue),
                info -> ex.respond(HttpResponses.json(ex.ctx().alloc(), HttpResponseStatus.OK, queueBody(info))));
    }

    /** {@code PUT /v1/queues/{queue}}: replaces the settings; absent fields take the defaults. */
    public void configure(Exchange ex, String queue) {
        JsonNode body = jsonBody(ex);
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!QUEUE_FIELDS.contains(f)) {
                throw new ApiException(ErrorCode.INVALID_QUEUE,
                        "unknown field '" + f + "'; allowed: maxAttempts, lease, resultTtl");
            }
        }
        QueueSettings d = QueueSettings.DEFAULTS;
        JsonNode attempts = body.get("maxAttempts");
        if (attempts != null && !attempts.isIntegralNumber()) {
            throw new ApiException(ErrorCode.INVALID_QUEUE, "maxAttempts must be a whole number 1-100");
        }
        QueueSettings s = new QueueSettings(attempts == null ? d.maxAttempts() : attempts.asInt(),
                durationField(body, "lease", d.lease()), durationField(body, "resultTtl", d.resultTtl()));
        ex.respondWhenDone(jobs.configure(queue, s),
                info -> ex.respond(HttpResponses.json(ex.ctx().alloc(), HttpResponseStatus.OK, queueBody(info))));
    }

    private static Map<String, Object> queueBody(JobService.QueueInfo info) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("queue", info.queue());
        body.put("maxAttempts", info.settings().maxAttempts());
        body.put("lease", Durations.format(info.settings().lease()));
        body.put("resultTtl", Durations.format(info.settings().resultTtl()));
        body.put("depth", info.counts().get(JobStatus.QUEUED));
        body.put("running", info.counts().get(JobStatus.RUNNING));
        body.put("succeeded", info.counts().get(JobStatus.SUCCEEDED));
        body.put("failed", info.counts().get(JobStatus.FAILED));
        body.put("cancelled", info.counts().get(JobStatus.CANCELLED));
        return body;
    }

    private static Duration durationField(JsonNode body, String field, Duration absent) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return absent;
        }
        if (!n.isTextual()) {
            throw new ApiException(ErrorCode.INVALID_DURATION, field + " must be a duration string like \"60s\"");
        }
        return Durations.parse(n.asText(), field);
    }

    private static Duration durationParam(Exchange ex, String name, Duration absent) {
        String text = ex.query(name);
        return text == null ? absent : Durations.parse(text, name);
    }

    private static String contentType(Exchange ex) {
        String type = ex.header(HttpHeaderNames.CONTENT_TYPE);
        return type == null || type.isBlank() ? DEFAULT_TYPE : type;
    }

    private static JsonNode jsonBody(Exchange ex) {
        byte[] bytes = ByteBufUtil.getBytes(ex.request().content());
        if (bytes.length == 0) {
            return HttpResponses.MAPPER.createObjectNode();
        }
        try {
            JsonNode n = HttpResponses.MAPPER.readTree(bytes);
            if (n == null || !n.isObject()) {
                throw new ApiException(ErrorCode.INVALID_JSON, "the body must be a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw new ApiException(ErrorCode.INVALID_JSON, "the body is not valid JSON");
        }
    }

    private FullHttpResponse jobResponse(HttpResponseStatus status, byte[] json) {
        return HttpResponses.withBody(status, Unpooled.wrappedBuffer(json), "application/json");
    }
}
