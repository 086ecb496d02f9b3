package dev.switchboard.codec.nats;

import dev.switchboard.auth.Grants;
import dev.switchboard.broker.Handoff;
import dev.switchboard.codec.http.HttpResponses;
import dev.switchboard.jobs.Job;
import dev.switchboard.jobs.JobStatus;
import dev.switchboard.wire.ApiException;
import io.netty.channel.ChannelHandlerContext;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * NATS requests to {@code _jobs.<queue>} (docs/nats.md), for one connection: {@code PUB _jobs.<queue> <reply>}
 * submits a job with the payload; its result, once it succeeded, is the reply (a failed or cancelled job's reply is
 * docs/api.md's error JSON). Without a reply subject the job is submitted and nobody is told. Replies travel live,
 * through {@link LiveSubjects}, like every reply.
 *
 * <p>Threads: the connection's event loop; a job's end is awaited on it too.
 */
final class JobRequests {
    private static final String PREFIX = "_jobs.";

    private final NatsEndpoint endpoint;
    private final ChannelHandlerContext ctx;
    private final NatsSession session;

    JobRequests(NatsEndpoint endpoint, ChannelHandlerContext ctx, NatsSession session) {
        this.endpoint = endpoint;
        this.ctx = ctx;
        this.session = session;
    }

    /** The queue a PUB to {@code subject} submits a job to, or null when the subject is not a job request's. */
    static String queueOf(String subject) {
        return subject.startsWith(PREFIX) ? subject.substring(PREFIX.length()) : null;
    }

    /**
     * Submits the job; a submission that fails later is told to the connection as {@code -ERR}.
     *
     * @param replyTo where the job's result goes, or null
     * @throws ApiException when {@code grants} may not submit to {@code queue}
     */
    void submit(Grants grants, String queue, byte[] payload, String replyTo) {
        grants.requireSubmit(queue);
        CompletableFuture<Job> submitted = endpoint.jobs.submit(queue, NatsEndpoint.OCTET_STREAM, payload, null);
        submitted.whenComplete((job, e) -> {
            if (e != null) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                Handoff.execute(ctx.executor(), () -> session.error(cause instanceof ApiException api
                        ? api.getMessage() : "the job submission failed"));
            } else if (replyTo != null) {
                awaitJob(job, replyTo);
            }
        });
    }

    private void awaitJob(Job submitted, String replyTo) {
        String id = submitted.id();
        endpoint.jobs.awaitFinished(submitted, endpoint.limits.maxWait(), ctx.executor()).whenComplete((job, e) -> {
            if (e != null) {
                reply(replyTo, errorJson("job_lost", "job '" + id + "' is gone"));
            } else if (!job.status().isTerminal()) {
                if (ctx.channel().isActive()) {
                    awaitJob(job, replyTo); // the longest wait ended: wait again while the requester is there
                }
            } else if (job.status() == JobStatus.SUCCEEDED) {
                endpoint.jobs.result(job).whenComplete((result, re) -> reply(replyTo,
                        re == null ? result : errorJson("job_result_lost", "the result of job '" + id + "' expired")));
            } else {
                reply(replyTo, errorJson("job_" + job.status().wire(),
                        job.error() == null ? "job '" + id + "' " + job.status().wire() : job.error()));
            }
        });
    }

    private void reply(String replyTo, byte[] payload) {
        endpoint.live.route(replyTo, null, null, payload, null);
    }

    private static byte[] errorJson(String code, String message) {
        var body = HttpResponses.MAPPER.createObjectNode();
        body.putObject("error").put("code", code).put("message", message);
        return body.toString().getBytes(StandardCharsets.UTF_8);
    }
}
