package dev.switchboard.xray;

/**
 * What a connection is being used for right now; a plain HTTP connection holding a long poll counts as one. Listed
 * with the clients' connections: the sidecar's connections to its upstreams.
 */
public enum Transport {
    HTTP("http"), LONGPOLL("longpoll"), SSE("sse"), WS("ws"), NATS("nats"),
    /** A connection of the sidecar to an upstream server (docs/sidecar.md), not a client's. */
    UPSTREAM("upstream");

    private final String wire;

    Transport(String wire) {
        this.wire = wire;
    }

    /** The name in the API and the metrics' {@code transport} tag. */
    public String wire() {
        return wire;
    }
}
