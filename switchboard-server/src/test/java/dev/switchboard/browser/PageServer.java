package dev.switchboard.browser;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Serves the test pages under {@code src/test/resources/browser/} from a loopback port of its own: another origin than
 * the server under test, so the browser applies CORS to every call the page makes.
 */
final class PageServer implements AutoCloseable {
    private final HttpServer http;

    private PageServer(HttpServer http) {
        this.http = http;
    }

    static PageServer start() {
        try {
            HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            http.createContext("/", exchange -> {
                try (exchange; OutputStream out = exchange.getResponseBody()) {
                    String path = exchange.getRequestURI().getPath();
                    byte[] page = path.matches("/[a-z-]+\\.html") ? resource(path) : null;
                    if (page == null) {
                        exchange.sendResponseHeaders(404, -1);
                        return;
                    }
                    exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
                    exchange.getResponseHeaders().set("Cache-Control", "no-store");
                    exchange.sendResponseHeaders(200, page.length);
                    out.write(page);
                }
            });
            http.start();
            return new PageServer(http);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] resource(String path) throws IOException {
        try (InputStream in = PageServer.class.getResourceAsStream("/browser" + path)) {
            return in == null ? null : in.readAllBytes();
        }
    }

    /** The origin pages are served from, e.g. {@code http://127.0.0.1:41234}. */
    String origin() {
        return "http://127.0.0.1:" + http.getAddress().getPort();
    }

    /** The page's URL with a query string. */
    String url(String page, String query) {
        return origin() + "/" + page + "?" + query;
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
