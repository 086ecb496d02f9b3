package dev.switchboard.router;

import dev.switchboard.auth.Authenticator;
import dev.switchboard.auth.Grants;
import dev.switchboard.auth.NamePattern;
import dev.switchboard.auth.PublishLimiter;
import dev.switchboard.codec.http.AdminEndpoints;
import dev.switchboard.codec.http.DashboardEndpoints;
import dev.switchboard.codec.http.Exchange;
import dev.switchboard.codec.http.GroupEndpoints;
import dev.switchboard.codec.http.HeldRequest;
import dev.switchboard.codec.http.JobEndpoints;
import dev.switchboard.codec.http.MethodNotAllowed;
import dev.switchboard.codec.http.OpsEndpoints;
import dev.switchboard.codec.http.TopicEndpoints;
import dev.switchboard.codec.longpoll.PollEndpoint;
import dev.switchboard.codec.sse.SseEndpoint;
import dev.switchboard.codec.websocket.WebSocketEndpoint;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.AttributeKey;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;

/**
 * The URL space of docs/api.md: which endpoint answers which method and path, and who may call it (docs/auth.md).
 * Every request but the health checks is authenticated here, once; each route then asks the caller's
 * {@link Grants} for the right it needs. Shared by every connection.
 */
public final class Routes {
    /** Operator surfaces: everything under it, and whatever is added there later, needs admin rights. */
    private static final String ADMIN = "/v1/admin/";
    private static final String METRICS = "/metrics";
    private static final String TOPICS = "/v1/topics";
    private static final String QUEUES = "/v1/queues/";
    private static final String JOBS = "/v1/jobs/";
    private static final String GROUPS = "groups/";
    private static final String CONNECTIONS = "/v1/admin/connections";
    /** The last token a keep-alive connection sent, and what it grants, so that its next requests skip the check. */
    private static final AttributeKey<Verified> VERIFIED = AttributeKey.valueOf("switchboard.verified");

    private record Verified(String token, Grants grants) {}

    private final TopicEndpoints topics;
    private final PollEndpoint polls;
    private final SseEndpoint sse;
    private final WebSocketEndpoint webSocket;
    private final OpsEndpoints ops;
    private final JobEndpoints jobs;
    private final GroupEndpoints groups;
    private final AdminEndpoints admin;
    private final DashboardEndpoints dashboard;
    private final Authenticator authenticator;
    private final BrowserGuard browsers;
    private final PublishLimiter publishes;

    /**
     * @param loopbackBind whether the server listens on a loopback address (its Host names are then accepted)
     * @param allowedHosts further Host names the server answers to
     * @param corsOrigins  origins whose pages may change things ({@code *}: any)
     * @param publishes    publish rates, each connection's budget taken from it
     */
    public Routes(TopicEndpoints topics, PollEndpoint polls, SseEndpoint sse, WebSocketEndpoint webSocket,
                  OpsEndpoints ops, JobEndpoints jobs, GroupEndpoints groups, AdminEndpoints admin,
                  DashboardEndpoints dashboard,
                  Authenticator authenticator, boolean loopbackBind, List<String> allowedHosts,
                  List<String> corsOrigins, PublishLimiter publishes) {
        this.jobs = jobs;
        this.groups = groups;
        this.admin = admin;
        this.dashboard = dashboard;
        this.publishes = publishes;
        this.authenticator = authenticator;
        this.browsers = new BrowserGuard(loopbackBind, allowedHosts, corsOrigins);
        this.topics = topics;
        this.polls = polls;
        this.sse = sse;
        this.webSocket = webSocket;
        this.ops = ops;
    }

    /** Health checks and metrics: what a connection past a connection limit is still served. */
    static boolean isOperations(String path) {
        return path.equals("/healthz") || path.equals("/readyz") || path.equals(METRICS);
    }

    /** The publish budget of a new connection. */
    PublishLimiter.Budget publishBudget() {
        return publishes.connection();
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
            return;
        } else if (path.equals("/readyz")) {
            allow(method, "GET, HEAD", HttpMethod.GET, HttpMethod.HEAD);
            ops.ready(ex);
            return;
        }
        browsers.check(ex, path); // health checks are exempt: probes name the node by IP, and they reveal nothing
        // Without authentication the token is not even looked for: nothing to parse on the publish path.
        Grants grants = ex.request() instanceof HeldRequest held ? holderOf(held.topic())
                : authenticator == Authenticator.NONE ? Grants.ANYONE : verified(ex);
        ex.grants(grants);
        if (path.equals(METRICS) || path.startsWith(ADMIN)) {
            grants.requireAdmin("use " + path);
        }
        if (path.equals(METRICS)) {
            allow(method, "GET", HttpMethod.GET);
            ops.metrics(ex);
        } else if (path.equals("/v1/ws")) {
            allow(method, "GET", HttpMethod.GET);
            webSocket.upgrade(ex);
        } else if (path.equals("/v1/events")) {
            allow(method, "GET", HttpMethod.GET);
            sse.streamMany(ex); // checks each topic and pattern against the grants itself
        } else if (path.equals("/v1/messages")) {
            allow(method, "GET", HttpMethod.GET);
            polls.pollMany(ex); // checks each topic and pattern against the grants itself
        } else if (path.equals(TOPICS) || path.equals(TOPICS + "/")) {
            allow(method, "GET", HttpMethod.GET);
            topics.list(ex);
        } else if (path.startsWith(TOPICS + "/")) {
            topicPath(ex, method, path, TOPICS.length() + 1);
        } else if (path.startsWith(QUEUES)) {
            queuePath(ex, method, path.substring(QUEUES.length()));
        } else if (path.startsWith(JOBS)) {
            jobPath(ex, method, path.substring(JOBS.length()));
        } else if (path.equals(CONNECTIONS)) {
            allow(method, "GET", HttpMethod.GET);
            admin.connections(ex);
        } else if (path.startsWith(CONNECTIONS + "/") && path.indexOf('/', CONNECTIONS.length() + 1) < 0) {
            allow(method, "GET", HttpMethod.GET);
            admin.connection(ex, path.substring(CONNECTIONS.length() + 1));
        } else if (path.equals("/v1/admin/stage-sample")) {
            allow(method, "GET, PUT", HttpMethod.GET, HttpMethod.PUT);
            admin.stageSample(ex, method.equals(HttpMethod.PUT));
        } else if (path.equals("/v1/admin/stream")) {
            allow(method, "GET", HttpMethod.GET);
            admin.stream(ex);
        } else if (dashboard.serves(path)) {
            allow(method, "GET", HttpMethod.GET);
            dashboard.serve(ex, path);
        } else {
            throw new ApiException(ErrorCode.NOT_FOUND, "no endpoint at " + path);
        }
    }

    /**
     * The grants of the request's token. A signature check costs about as much as the rest of a publish, so a
     * connection that sends the same token again reuses the last check until the token's {@code exp}: like a stream,
     * a keep-alive connection is verified once per token, not once per message.
     */
    private Grants verified(Exchange ex) {
        String token = ex.token();
        Channel ch = ex.ctx().channel();
        Verified last = ch.attr(VERIFIED).get();
        if (last != null && last.token().equals(token)
                && (last.grants().validUntil() == null || Instant.now().isBefore(last.grants().validUntil()))) {
            return last.grants();
        }
        Grants grants = authenticator.verify(token);
        ch.attr(VERIFIED).set(new Verified(token, grants));
        return grants;
    }

    /**
     * A request held by the sidecar for its upstream (docs/sidecar.md): the upstream authorised its client already,
     * so it may read the one topic the upstream named, nothing else.
     */
    private static Grants holderOf(String topic) {
        return new Grants("upstream", null, List.of(), List.of(NamePattern.parse(topic)), List.of(), List.of(), false);
    }

    /** A topic's endpoints, matched in the path rather than cut from it on every request. */
    private static final List<String> TOPIC_SUBS = List.of("messages", "batch", "events", "presence");

    /** {@code path} from {@code from} on: one of {@link #TOPIC_SUBS} as that constant, anything else cut out. */
    private static String rest(String path, int from) {
        for (String sub : TOPIC_SUBS) {
            if (path.length() - from == sub.length() && path.startsWith(sub, from)) {
                return sub;
            }
        }
        return path.substring(from);
    }

    /** {@code path} from {@code start} on: {@code {topic}[/{sub}]}, cut from the path itself (no copy of the rest). */
    private void topicPath(Exchange ex, HttpMethod method, String path, int start) {
        int slash = path.indexOf('/', start);
        String topic = slash < 0 ? path.substring(start) : path.substring(start, slash);
        String sub = slash < 0 ? "" : rest(path, slash + 1);
        Grants grants = ex.grants();
        switch (sub) {
            case "" -> {
                if (method.equals(HttpMethod.GET)) {
                    grants.requireSubscribe(topic);
                    topics.describe(ex, topic);
                } else if (method.equals(HttpMethod.PUT)) {
                    grants.requireAdmin("set the retention of topic '" + topic + "'");
                    topics.setRetention(ex, topic);
                } else if (method.equals(HttpMethod.DELETE)) {
                    grants.requireAdmin("delete topic '" + topic + "'");
                    topics.delete(ex, topic);
                } else {
                    throw methodNotAllowed("GET, PUT, DELETE");
                }
            }
            case "messages" -> {
                if (method.equals(HttpMethod.POST)) {
                    grants.requirePublish(topic);
                    topics.publish(ex, topic);
                } else if (method.equals(HttpMethod.GET)) {
                    grants.requireSubscribe(topic);
                    polls.poll(ex, topic);
                } else {
                    throw methodNotAllowed("GET, POST");
                }
            }
            case "batch" -> {
                allow(method, "POST", HttpMethod.POST);
                grants.requirePublish(topic);
                topics.publishBatch(ex, topic);
            }
            case "events" -> {
                allow(method, "GET", HttpMethod.GET);
                grants.requireSubscribe(topic);
                sse.stream(ex, topic);
            }
            case "presence" -> {
                allow(method, "GET", HttpMethod.GET);
                grants.requireSubscribe(topic);
                topics.presence(ex, topic);
            }
            default -> {
                if (!sub.startsWith(GROUPS)) {
                    throw new ApiException(ErrorCode.NOT_FOUND, "no endpoint at " + ex.path());
                }
                groupPath(ex, method, topic, sub.substring(GROUPS.length()));
            }
        }
    }

    /**
     * {@code /v1/topics/{topic}/groups/{group}[/fetch|/ack|/release]}: every call reads the topic, so each needs
     * {@code sub}.
     */
    private void groupPath(Exchange ex, HttpMethod method, String topic, String rest) {
        int slash = rest.indexOf('/');
        String group = slash < 0 ? rest : rest.substring(0, slash);
        ex.grants().requireSubscribe(topic);
        switch (slash < 0 ? "" : rest.substring(slash + 1)) {
            case "" -> {
                allow(method, "GET", HttpMethod.GET);
                groups.status(ex, topic, group);
            }
            case "fetch" -> {
                allow(method, "POST", HttpMethod.POST);
                groups.fetch(ex, topic, group);
            }
            case "ack" -> {
                allow(method, "POST", HttpMethod.POST);
                groups.ack(ex, topic, group);
            }
            case "release" -> {
                allow(method, "POST", HttpMethod.POST);
                groups.release(ex, topic, group);
            }
            default -> throw new ApiException(ErrorCode.NOT_FOUND, "no endpoint at " + ex.path());
        }
    }

    private void queuePath(Exchange ex, HttpMethod method, String rest) {
        int slash = rest.indexOf('/');
        String queue = slash < 0 ? rest : rest.substring(0, slash);
        Grants grants = ex.grants();
        switch (slash < 0 ? "" : rest.substring(slash + 1)) {
            case "" -> {
                if (method.equals(HttpMethod.GET)) {
                    grants.requireSubmitOrWork(queue);
                    jobs.queue(ex, queue);
                } else if (method.equals(HttpMethod.PUT)) {
                    grants.requireAdmin("configure queue '" + queue + "'");
                    jobs.configure(ex, queue);
                } else {
                    throw methodNotAllowed("GET, PUT");
                }
            }
            case "jobs" -> {
                allow(method, "POST", HttpMethod.POST);
                grants.requireSubmit(queue);
                jobs.submit(ex, queue);
            }
            case "claim" -> {
                allow(method, "POST", HttpMethod.POST);
                grants.requireWork(queue);
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
                jobs.get(ex, id, ex.grants()::requireSubmitOrWork);
            } else if (method.equals(HttpMethod.DELETE)) {
                jobs.cancel(ex, id, ex.grants()::requireSubmitOrWork);
            } else {
                throw methodNotAllowed("GET, DELETE");
            }
            return;
        }
        switch (sub) {
            case "events" -> {
                allow(method, "GET", HttpMethod.GET);
                jobs.events(ex, id, ex.grants()::requireSubmitOrWork, sse::streamJob);
            }
            case "result" -> {
                allow(method, "GET", HttpMethod.GET);
                jobs.result(ex, id, ex.grants()::requireSubmitOrWork);
            }
            case "progress", "heartbeat", "complete", "fail" -> {
                allow(method, "POST", HttpMethod.POST);
                Consumer<String> mayWork = ex.grants()::requireWork;
                switch (sub) {
                    case "progress" -> jobs.progress(ex, id, mayWork);
                    case "heartbeat" -> jobs.heartbeat(ex, id, mayWork);
                    case "complete" -> jobs.complete(ex, id, mayWork);
                    default -> jobs.fail(ex, id, mayWork);
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
