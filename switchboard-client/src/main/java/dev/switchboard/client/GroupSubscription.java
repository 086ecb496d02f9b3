package dev.switchboard.client;

import dev.switchboard.wire.ErrorCode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link Subscription} as a member of a consumer group: one daemon thread long-polls the group's fetch and hands
 * each message to the handler, acknowledging it once the handler returns. A handler that throws ends the
 * subscription; that message and the rest of the batch in hand are given back to the group (released) for its other
 * members, as they are when the subscription is closed. A topic that does not exist yet is waited for.
 */
final class GroupSubscription implements Subscription {
    /** A long poll's wait: short enough that a close which cannot interrupt (a handler running) ends soon after. */
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final GroupMember member;
    private final int batch;
    private final MessageHandler handler;
    private final Backoff backoff;
    private final Duration closeWait;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final Thread thread;
    private final Object lock = new Object();
    private volatile long lastOffset;
    private volatile int buffered;
    /** Guarded by {@link #lock}: the thread is in the handler or its ack, which a close must not interrupt. */
    private boolean handling;
    private volatile boolean closing;

    GroupSubscription(GroupMember member, int batch, MessageHandler handler, SwitchboardOptions options) {
        this.member = member;
        this.batch = batch;
        this.handler = handler;
        this.backoff = new Backoff(options.reconnectMin(), options.reconnectMax());
        this.closeWait = options.requestTimeout();
        this.thread = new Thread(this::run, "switchboard-group-" + member.topic() + "-" + member.group());
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    private void run() {
        try {
            while (!closing) {
                List<GroupMessage> messages;
                try {
                    messages = member.fetch(batch, WAIT);
                    backoff.reset();
                } catch (ConnectionException | UnavailableException | NotFoundException e) {
                    if (e instanceof NotFoundException && e.code() != ErrorCode.TOPIC_NOT_FOUND) {
                        throw e;
                    }
                    if (!closing) { // the server, or the topic's first message, may come back
                        Thread.sleep(backoff.next().toMillis());
                    }
                    continue;
                }
                buffered = messages.size();
                int handled = 0;
                try {
                    for (; handled < messages.size() && !closing; handled++) {
                        handleAndAck(messages.get(handled));
                        buffered--;
                    }
                } finally {
                    giveBack(messages.subList(handled, messages.size()));
                    buffered = 0;
                }
            }
            closed.complete(null);
        } catch (InterruptedException e) {
            closed.complete(null);
        } catch (Exception e) {
            if (closing) {
                closed.complete(null);
            } else {
                closed.completeExceptionally(e);
            }
        }
    }

    /** Best effort: what is not given back returns to the group when its leases expire. */
    private void giveBack(List<GroupMessage> unhandled) {
        if (unhandled.isEmpty()) {
            return;
        }
        boolean interrupted = Thread.interrupted(); // a close: the release still goes out
        try {
            member.release(unhandled.stream().mapToLong(m -> m.message().offset()).toArray());
        } catch (RuntimeException e) {
            // the server or the connection is gone: the leases expire there
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The handler, then the ack: a close waits for both rather than interrupt the ack of a handled message. */
    private void handleAndAck(GroupMessage m) throws Exception {
        synchronized (lock) {
            handling = true;
            Thread.interrupted(); // a close that came between messages: this one still runs to its end
        }
        try {
            handler.onMessage(m.message());
            member.ack(m.message().offset());
            lastOffset = m.message().offset();
        } finally {
            synchronized (lock) {
                handling = false;
            }
        }
    }

    @Override
    public String topic() {
        return member.topic();
    }

    @Override
    public long lastOffset() {
        return lastOffset;
    }

    @Override
    public int buffered() {
        return buffered;
    }

    @Override
    public CompletableFuture<Void> closed() {
        return closed;
    }

    /**
     * Stops fetching, and waits (up to the request timeout) for the handler call in progress and its ack, and for
     * the release of the messages in hand: a program that exits after close leaves nothing it handled unacknowledged.
     */
    @Override
    public void close() {
        closing = true;
        if (Thread.currentThread() == thread) {
            return; // from the handler: the loop ends after it
        }
        synchronized (lock) {
            if (!handling) {
                thread.interrupt();
            }
        }
        try {
            thread.join(closeWait.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
