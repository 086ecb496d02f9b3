package dev.switchboard.codec.http;

import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The dashboard: {@code GET /} and its script and style under {@code /dashboard/}, static files served from the jar
 * (no build step). The page reads everything live from {@code /v1/admin/stream} and the public API. Its content
 * security policy allows scripts and connections to this origin only, so nothing it shows can run code. In sidecar
 * mode, where {@code /} is the upstream's, it lives under {@code /_switchboard/} (its page names its files relatively).
 */
public final class DashboardEndpoints {
    private static final String POLICY = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:";

    private record Asset(byte[] bytes, String type) {
    }

    private final String base;
    private final Map<String, Asset> assets;

    /** @param base where the page is: {@code /}, or {@code /_switchboard/} */
    public DashboardEndpoints(String base) {
        this.base = base;
        this.assets = Map.of(
                base, load("index.html", "text/html; charset=utf-8"),
                base + "dashboard/app.js", load("app.js", "text/javascript; charset=utf-8"),
                base + "dashboard/style.css", load("style.css", "text/css; charset=utf-8"));
    }

    /** Whether {@code path} is one of the dashboard's files. */
    public boolean serves(String path) {
        return path.equals(base) || path.startsWith(base + "dashboard/");
    }

    public void serve(Exchange ex, String path) {
        Asset a = assets.get(path);
        if (a == null) {
            throw new ApiException(ErrorCode.NOT_FOUND, "no endpoint at " + path);
        }
        FullHttpResponse r = HttpResponses.withBody(HttpResponseStatus.OK, Unpooled.wrappedBuffer(a.bytes()), a.type());
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                .set(HttpHeaderNames.CONTENT_SECURITY_POLICY, POLICY)
                .set("X-Content-Type-Options", "nosniff");
        ex.respond(r);
    }

    private static Asset load(String name, String type) {
        try (InputStream in = DashboardEndpoints.class.getResourceAsStream("/dashboard/" + name)) {
            if (in == null) {
                throw new IllegalStateException("the dashboard's " + name + " is missing from the jar");
            }
            return new Asset(in.readAllBytes(), type);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
