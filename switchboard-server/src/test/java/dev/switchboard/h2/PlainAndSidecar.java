package dev.switchboard.h2;

import dev.switchboard.sidecar.UpstreamApp;
import dev.switchboard.testing.TestServer;

/** The two places an h2c upgrade is answered: a plain server, and a sidecar in front of an upstream app. */
final class PlainAndSidecar implements AutoCloseable {
    final TestServer plain;
    final TestServer sidecar;
    private final UpstreamApp app;

    private PlainAndSidecar(TestServer plain, UpstreamApp app) {
        this.plain = plain;
        this.app = app;
        this.sidecar = app.inFront();
    }

    static PlainAndSidecar start() {
        return new PlainAndSidecar(TestServer.start(), UpstreamApp.start());
    }

    TestServer server(boolean inSidecar) {
        return inSidecar ? sidecar : plain;
    }

    @Override
    public void close() {
        plain.close();
        sidecar.close();
        app.close();
    }
}
