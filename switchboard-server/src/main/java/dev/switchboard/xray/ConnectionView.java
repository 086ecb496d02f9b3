package dev.switchboard.xray;

import java.util.List;

/**
 * One connection as {@code GET /v1/admin/connections} shows it (docs/api.md, "Socket x-ray"): its counters and the
 * kernel's view of its socket, taken on its event loop.
 *
 * @param queuedBytes       bytes written by the server and still in user space (Netty's outbound buffer)
 * @param unwritableCount   how often the connection turned unwritable (queued bytes above the high-water mark)
 * @param unwritableMillis  how long it has been unwritable now (0 while writable): a push subscriber is paused meanwhile,
 *                          and closed as a slow consumer after {@code --slow-consumer-timeout}
 */
public record ConnectionView(long id, String transport, String remote, String local, String since,
                             List<Subscription> subscriptions, long bytesIn, long bytesOut, long messagesIn,
                             long messagesOut, long queuedBytes, boolean writable, long unwritableCount,
                             long unwritableMillis, KernelView kernel) {

    /** @param lag offsets stored but not yet sent to this connection */
    public record Subscription(String topic, long next, long lag) {
    }

    ConnectionView withKernel(KernelView k) {
        return new ConnectionView(id, transport, remote, local, since, subscriptions, bytesIn, bytesOut, messagesIn,
                messagesOut, queuedBytes, writable, unwritableCount, unwritableMillis, k);
    }
}
