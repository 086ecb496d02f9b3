package dev.switchboard.codec.http;

import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.Durations;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.xray.ConnectionRegistry;
import dev.switchboard.xray.ConnectionStats;
import dev.switchboard.xray.StageTimer;
import dev.switchboard.xray.Transport;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The socket x-ray over HTTP (docs/api.md, "Socket x-ray"): {@code GET /v1/admin/connections[/{id}]} and the
 * dashboard's stream of snapshots, {@code GET /v1/admin/stream}. Each answer is
 * built from the event loops' own snapshots of their connections and one read of {@code /proc/net/tcp} off the loops,
 * so asking never blocks a loop on a file.
 */
public final class AdminEndpoints {
    static final int DEFAULT_LIMIT = 1000;
    static final int MAX_LIMIT = 100_000;

    static final int STREAM_DEFAULT_LIMIT = 200;
    static final int STREAM_TOPICS = 200;
    static final Duration MIN_INTERVAL = Duration.ofMillis(250);
    static final Duration MAX_INTERVAL = Duration.ofMinutes(1);
    static final int MAX_STAGE_SAMPLE = 1_000_000;

    private final ConnectionRegistry connections;
    private final TopicEndpoints topics;

    public AdminEndpoints(ConnectionRegistry connections, TopicEndpoints topics) {
        this.connections = connections;
        this.topics = topics;
    }

    /**
     * {@code GET /v1/admin/stream?interval=1s&limit=200}: an SSE stream of snapshots for the dashboard, each the
     * connections (as {@link #connections}, at most {@code limit}), the topics and the stage timing.
     */
    public void stream(Exchange ex) {
        String intervalText = ex.query("interval");
        Duration interval = intervalText == null ? Duration.ofSeconds(1) : Durations.parse(intervalText, "interval");
        if (interval.compareTo(MIN_INTERVAL) < 0 || interval.compareTo(MAX_INTERVAL) > 0) {
            throw new ApiException(ErrorCode.INVALID_DURATION, "interval must be 250ms-1m");
        }
        int limit = ex.query("limit") == null ? STREAM_DEFAULT_LIMIT : limit(ex.query("limit"));
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
        ConnectionStats.of(ex.ctx().channel()).use(Transport.SSE);
        ex.stream(head);
        ex.ctx().pipeline().addLast(new AdminStream(connections, () -> topics.descriptions(STREAM_TOPICS, name -> true), interval,
                limit));
    }

    /**
     * {@code GET /v1/admin/stage-sample}, and {@code PUT} with {@code ?every=N}: how many events per connection
     * and stage share one timed event (0: none). Changing it at run time lets an operator time the message path only
     * while looking, and lets a benchmark compare timing on and off under one load on one warm server.
     */
    public void stageSample(Exchange ex, boolean change) {
        StageTimer stages = connections.stages();
        if (change) {
            String text = ex.query("every");
            if (text == null) {
                throw new ApiException(ErrorCode.INVALID_QUERY, "every=N is required (0 turns stage timing off)");
            }
            try {
                int every = Integer.parseInt(text);
                if (every > MAX_STAGE_SAMPLE) {
                    throw new NumberFormatException();
                }
                stages.sampleEvery(every);
            } catch (NumberFormatException e) {
                throw new ApiException(ErrorCode.INVALID_QUERY, "every must be an integer 0-" + MAX_STAGE_SAMPLE);
            } catch (IllegalArgumentException e) {
                throw new ApiException(ErrorCode.INVALID_QUERY, e.getMessage() + "; restart with a positive value");
            }
        }
        ex.respond(HttpResponses.json(ex.ctx().alloc(), HttpResponseStatus.OK,
                Map.of("every", stages.sampleEvery())));
    }

    /** {@code GET /v1/admin/connections?limit=N}: the oldest N open connections (default 1000) and the total. */
    public void connections(Exchange ex) {
        int limit = limit(ex.query("limit"));
        ex.respondWhenDone(connections.snapshot(limit), s -> {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("engine", connections.engine());
            body.put("total", s.total());
            body.put("connections", s.connections());
            ex.respond(HttpResponses.json(ex.ctx().alloc(), HttpResponseStatus.OK, body));
        });
    }

    /** {@code GET /v1/admin/connections/{id}}. */
    public void connection(Exchange ex, String idText) {
        long id;
        try {
            id = Long.parseLong(idText);
        } catch (NumberFormatException e) {
            throw notFound(idText);
        }
        ex.respondWhenDone(connections.snapshot(id), found -> ex.respond(found.isPresent()
                ? HttpResponses.json(ex.ctx().alloc(), HttpResponseStatus.OK, found.get())
                : HttpResponses.error(ex.ctx().alloc(), notFound(idText))));
    }

    private static ApiException notFound(String id) {
        return new ApiException(ErrorCode.NOT_FOUND, "no open connection '" + id + "'");
    }

    private static int limit(String text) {
        if (text == null) {
            return DEFAULT_LIMIT;
        }
        try {
            int n = Integer.parseInt(text);
            if (n >= 1 && n <= MAX_LIMIT) {
                return n;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new ApiException(ErrorCode.INVALID_LIMIT, "limit must be 1-" + MAX_LIMIT);
    }
}
