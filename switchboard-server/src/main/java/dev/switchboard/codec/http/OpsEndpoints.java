package dev.switchboard.codec.http;

import dev.switchboard.broker.Broker;
import dev.switchboard.wire.ApiException;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

/**
 * Operations: liveness ({@code /healthz}: the process serves), readiness ({@code /readyz}: it can also store
 * changes) and Prometheus metrics. A load balancer takes a node that is alive but not ready out of rotation.
 */
public final class OpsEndpoints {
    /**
     * Builds {@code /metrics} off the event loops: a scrape takes 15 ms of CPU, 45 ms with 10,000 connections open
     * (BENCHMARKS.md, "Long-poll wake tail"), which every connection of the loop, held long polls' wake-ups included,
     * would wait behind. Idle, it holds no thread.
     */
    private static final Executor SCRAPES = Executors.newVirtualThreadPerTaskExecutor();

    private final PrometheusMeterRegistry metrics;
    private final Broker broker;

    public OpsEndpoints(PrometheusMeterRegistry metrics, Broker broker) {
        this.metrics = metrics;
        this.broker = broker;
    }

    public void health(Exchange ex) {
        ex.respond(HttpResponses.json(ex.ctx().alloc(), HttpResponseStatus.OK, Map.of("status", "ok")));
    }

    /**
     * 200 while the engine can store changes, with what it tells of its health; 503 {@code unavailable} with the
     * reason while it cannot.
     */
    public void ready(Exchange ex) {
        Optional<String> problem = broker.unhealthy();
        if (problem.isPresent()) {
            throw ApiException.unavailable(problem.get());
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", "ready");
        body.putAll(broker.health());
        ex.respond(HttpResponses.json(ex.ctx().alloc(), HttpResponseStatus.OK, body));
    }

    public void metrics(Exchange ex) {
        ex.respondWhenDone(CompletableFuture.supplyAsync(metrics::scrape, SCRAPES), text -> ex.respond(
                HttpResponses.withBody(HttpResponseStatus.OK, ByteBufUtil.writeUtf8(ex.ctx().alloc(), text),
                        "text/plain; version=0.0.4; charset=utf-8")));
    }
}
