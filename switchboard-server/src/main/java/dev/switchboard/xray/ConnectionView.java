package dev.switchboard.xray;

import java.util.List;

/**
 * One connection as {@code GET /v1/admin/connections} shows it (docs/api.md, "Socket x-ray"): its counters and the
 * kernel's view of its socket, taken on its event loop.
 *
 * @param protocol          {@code h1} (HTTP/1.1, WebSocket included) or {@code h2}
 * @param tls               the TLS version, cipher suite and implementation ({@code openssl} or {@code jdk}); null
 *                          in clear text
 * @param streams           open HTTP/2 streams (0 on h1)
 * @param queuedBytes       bytes written by the server and still in user space (Netty's outbound buffer)
 * @param unwritableCount   how often the connection turned unwritable (queued bytes above the high-water mark)
 * @param unwritableMillis  how long it has been unwritable now (0 while writable): a push subscriber is paused meanwhile,
 *                          and closed as a slow consumer after {@code --slow-consumer-timeout}
 */
public record ConnectionView(long id, String transport, String protocol, Tls tls, int streams, String remote,
                             String local, String since, List<Subscription> subscriptions, long bytesIn,
                             long bytesOut, long messagesIn, long messagesOut, long queuedBytes, boolean writable, long unwritableCount,
                             long unwritableMillis, KernelView kernel) {

    public record Tls(String protocol, String cipher, String provider) {
    }

    /** @param lag offsets stored but not yet sent to this connection */
    public record Subscription(String topic, long next, long lag) {
    }

    ConnectionView withKernel(KernelView k) {
        return new ConnectionView(id, transport, protocol, tls, streams, remote, local, since, subscriptions, bytesIn,
                bytesOut, messagesIn, messagesOut, queuedBytes, writable, unwritableCount, unwritableMillis, k);
    }
}
