package dev.switchboard.client;

/** How a {@link Subscription} reads its topic (docs/api.md describes each). */
public enum Transport {
    /** One WebSocket per subscription ({@code GET /v1/ws}); the default. */
    WEBSOCKET,
    /** Server-sent events ({@code GET /v1/topics/{topic}/events?format=envelope}), each carrying a message envelope. */
    SSE,
    /** Long polls ({@code GET /v1/topics/{topic}/messages?wait=}), each from the previous answer's {@code next}. */
    LONG_POLL
}
