package dev.switchboard.codec.http;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Map;

/** Operations: liveness and Prometheus metrics. */
public final class OpsEndpoints {
    private final PrometheusMeterRegistry metrics;

    public OpsEndpoints(PrometheusMeterRegistry metrics) {
        this.metrics = metrics;
    }

    public void health(Exchange ex) {
        ex.respond(HttpResponses.json(ex.ctx().alloc(), HttpResponseStatus.OK, Map.of("status", "ok")));
    }

    public void metrics(Exchange ex) {
        ex.respond(HttpResponses.withBody(HttpResponseStatus.OK,
                ByteBufUtil.writeUtf8(ex.ctx().alloc(), metrics.scrape()), "text/plain; version=0.0.4; charset=utf-8"));
    }
}
