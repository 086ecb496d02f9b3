package dev.switchboard.router;

import dev.switchboard.broker.ApiException;
import dev.switchboard.codec.http.Exchange;
import dev.switchboard.codec.http.OpsEndpoints;
import dev.switchboard.codec.http.TopicEndpoints;
import dev.switchboard.codec.longpoll.PollEndpoint;
import dev.switchboard.codec.sse.SseEndpoint;
import dev.switchboard.codec.websocket.WebSocketEndpoint;
import io.netty.handler.codec.http.HttpMethod;

/** The URL space of API.md: which endpoint answers which method and path. Shared by every connection. */
public final class Routes {
    private static final String TOPICS = "/v1/topics";

    private final TopicEndpoints topics;
    private final PollEndpoint polls;
    private final SseEndpoint sse;
    private final WebSocketEndpoint webSocket;
    private final OpsEndpoints ops;

    public Routes(TopicEndpoints topics, PollEndpoint polls, SseEndpoint sse, WebSocketEndpoint webSocket,
                  OpsEndpoints ops) {
        this.topics = topics;
        this.polls = polls;
        this.sse = sse;
        this.webSocket = webSocket;
        this.ops = ops;
    }

    void dispatch(Exchange ex) {
        String path = ex.path();
        HttpMethod method = ex.request().method();
        if (path.equals("/healthz")) {
            allow(method, "GET, HEAD", HttpMethod.GET, HttpMethod.HEAD);
            ops.health(ex);
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
        } else {
            throw ApiException.notFound("not_found", "no endpoint at " + path);
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
            case "events" -> {
                allow(method, "GET", HttpMethod.GET);
                sse.stream(ex, topic);
            }
            default -> throw ApiException.notFound("not_found", "no endpoint at " + ex.path());
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
        return ApiException.methodNotAllowed(allowed);
    }
}
