package dev.switchboard.codec.proxy;

/** What a route's circuit breaker counts: the upstream was unreachable, too slow, or answered 502-504. */
final class UpstreamFailure extends Exception {
    UpstreamFailure() {
        super("upstream failed", null, false, false);
    }
}
