package dev.switchboard.router;

import dev.switchboard.codec.http.Exchange;
import dev.switchboard.codec.http.JobEndpoints;
import dev.switchboard.codec.http.MethodNotAllowed;
import dev.switchboard.codec.http.OpsEndpoints;
import dev.switchboard.codec.http.TopicEndpoints;
import dev.switchboard.codec.longpoll.PollEndpoint;
import dev.switchboard.codec.sse.SseEndpoint;
import dev.switchboard.codec.websocket.WebSocketEndpoint;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;

/** The URL space of docs/api.md: which endpoint answers which method and path. Shared by every connection. */
public final class Routes {
    private static final String TOPICS = "/v1/topics";
    private static final String QUEUES = "/v1/queues/";
    private static final String JOBS = "/v1/jobs/";

    private final TopicEndpoints topics;
    private final PollEndpoint polls;
    private final SseEndpoint sse;
    private final WebSocketEndpoint webSocket;
    private final OpsEndpoints ops;
    /** Null when the engine cannot hold jobs across nodes (Redis, for now): their endpoints answer 503. */
    private final JobEndpoints jobs;

    public Routes(TopicEndpoints topics, PollEndpoint polls, SseEndpoint sse, WebSocketEndpoint webSocket,
                  OpsEndpoints ops, JobEndpoints jobs) {
        this.jobs = jobs;
        this.topics = topics;
        this.polls = polls;
        this.sse = sse;
        this.webSocket = webSocket;
        this.ops = ops;
    }

    /** {@code POST /v1/topics/{topic}/messages}, judged from the raw target; dispatch still validates it. */
    static boolean isPublish(HttpRequest request) {
        if (!request.method().equals(HttpMethod.POST) || !request.decoderResult().isSuccess()) {
            return false;
        }
        String target = request.uri();
        int query = target.indexOf('?');
        String path = query < 0 ? target : target.substring(0, query);
        return path.startsWith(TOPICS + "/") && path.endsWith("/messages")
                && path.indexOf('/', TOPICS.length() + 1) == path.length() - "/messages".length();
    }

    void dispatch(Exchange ex) {
        String path = ex.path();
        HttpMethod method = ex.request().method();
        if (path.equals("/healthz")) {
            allow(method, "GET, HEAD", HttpMethod.GET, HttpMethod.HEAD);
            ops.health(ex);
        } else if (path.equals("/readyz")) {
            allow(method, "GET, HEAD", HttpMethod.GET, HttpMethod.HEAD);
            ops.ready(ex);
        } else if (path.equals("/metrics")) {
            allow(method, "GET", HttpMethod.GET);
            ops.metrics(ex);
        } else if (path.equals("/v1/ws")) {
            allow(method, "GET", HttpMethod.GET);
            webSocket.upgrade(ex);
        } else if (path.equals(TOPICS) || path.equals(TOPICS + "/")) {
            allow(method, "GET", HttpMethod.GET);
            topics.list(ex);
        } else if (path.startsWith(TOPICS + "/")) {
            topicPath(ex, method, path.substring(TOPICS.length() + 1));
        } else if (path.startsWith(QUEUES)) {
            refuseWithoutJobs();
            queuePath(ex, method, path.substring(QUEUES.length()));
        } else if (path.startsWith(JOBS)) {
            refuseWithoutJobs();
            jobPath(ex, method, path.substring(JOBS.length()));
        } else {
            throw new ApiException(ErrorCode.NOT_FOUND, "no endpoint at " + path);
        }
    }

    private void topicPath(Exchange ex, HttpMethod method, String rest) {
        int slash = rest.indexOf('/');
        String topic = slash < 0 ? rest : rest.substring(0, slash);
        String sub = slash < 0 ? "" : rest.substring(slash + 1);
        switch (sub) {
            case "" -> {
                if (method.equals(HttpMethod.GET)) {
                    topics.describe(ex, topic);
                } else if (method.equals(HttpMethod.PUT)) {
                    topics.setRetention(ex, topic);
                } else if (method.equals(HttpMethod.DELETE)) {
                    topics.delete(ex, topic);
                } else {
                    throw methodNotAllowed("GET, PUT, DELETE");
                }
            }
            case "messages" -> {
                if (method.equals(HttpMethod.POST)) {
                    topics.publish(ex, topic);
                } else if (method.equals(HttpMethod.GET)) {
                    polls.poll(ex, topic);
                } else {
                    throw methodNotAllowed("GET, POST");
                }
            }
            case "batch" -> {
                allow(method, "POST", HttpMethod.POST);
                topics.publishBatch(ex, topic);
            }
            case "events" -> {
                allow(method, "GET", HttpMethod.GET);
                sse.stream(ex, topic);
            }
            default -> throw new ApiException(ErrorCode.NOT_FOUND, "no endpoint at " + ex.path());
        }
    }

    private void refuseWithoutJobs() {
        if (jobs == null) {
            throw ApiException.unavailable("jobs are not available with --engine redis yet: their leases are kept by "
                    + "one node (docs/cluster.md, \"Jobs\")");
        }
    }

    private void queuePath(Exchange ex, HttpMethod method, String rest) {
        int slash = rest.indexOf('/');
        String queue = slash < 0 ? rest : rest.substring(0, slash);
        switch (slash < 0 ? "" : rest.substring(slash + 1)) {
            case "" -> {
                if (method.equals(HttpMethod.GET)) {
                    jobs.queue(ex, queue);
                } else if (method.equals(HttpMethod.PUT)) {
                    jobs.configure(ex, queue);
                } else {
                    throw methodNotAllowed("GET, PUT");
                }
            }
            case "jobs" -> {
                allow(method, "POST", HttpMethod.POST);
                jobs.submit(ex, queue);
            }
            case "claim" -> {
                allow(method, "POST", HttpMethod.POST);
                jobs.claim(ex, queue);
            }
            default -> throw new ApiException(ErrorCode.NOT_FOUND, "no endpoint at " + ex.path());
        }
    }

    private void jobPath(Exchange ex, HttpMethod method, String rest) {
        int slash = rest.indexOf('/');
        String id = slash < 0 ? rest : rest.substring(0, slash);
        String sub = slash < 0 ? "" : rest.substring(slash + 1);
        if (sub.isEmpty()) {
            if (method.equals(HttpMethod.GET)) {
                jobs.get(ex, id);
            } else if (method.equals(HttpMethod.DELETE)) {
                jobs.cancel(ex, id);
            } else {
                throw methodNotAllowed("GET, DELETE");
            }
            return;
        }
        switch (sub) {
            case "events" -> {
                allow(method, "GET", HttpMethod.GET);
                sse.streamJob(ex, jobs.job(id));
            }
            case "result" -> {
                allow(method, "GET", HttpMethod.GET);
                jobs.result(ex, id);
            }
            case "progress", "heartbeat", "complete", "fail" -> {
                allow(method, "POST", HttpMethod.POST);
                switch (sub) {
                    case "progress" -> jobs.progress(ex, id);
                    case "heartbeat" -> jobs.heartbeat(ex, id);
                    case "complete" -> jobs.complete(ex, id);
                    default -> jobs.fail(ex, id);
                }
            }
            default -> throw new ApiException(ErrorCode.NOT_FOUND, "no endpoint at " + ex.path());
        }
    }

    private static void allow(HttpMethod method, String allowed, HttpMethod... methods) {
        for (HttpMethod m : methods) {
            if (m.equals(method)) {
                return;
            }
        }
        throw methodNotAllowed(allowed);
    }

    private static ApiException methodNotAllowed(String allowed) {
        return new MethodNotAllowed(allowed);
    }
}
