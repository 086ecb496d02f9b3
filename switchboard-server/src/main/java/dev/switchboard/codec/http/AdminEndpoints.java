package dev.switchboard.codec.http;

import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.xray.ConnectionRegistry;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The socket x-ray over HTTP (docs/api.md, "Socket x-ray"): {@code GET /v1/admin/connections[/{id}]}. Each answer is
 * built from the event loops' own snapshots of their connections and one read of {@code /proc/net/tcp} off the loops,
 * so asking never blocks a loop on a file.
 */
public final class AdminEndpoints {
    static final int DEFAULT_LIMIT = 1000;
    static final int MAX_LIMIT = 100_000;

    private final ConnectionRegistry connections;

    public AdminEndpoints(ConnectionRegistry connections) {
        this.connections = connections;
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
