package dev.switchboard.client;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One subscription: a reader thread that keeps a connection (through a {@link Reader}) and fills a bounded buffer, and
 * a delivery thread that empties it into the handler.
 *
 * <p>The reader owns the position: after each message it takes in, the next connection starts at the offset after it.
 * Everything it took in is handed over before anything a later connection brings, so resuming there is resuming after
 * the last message handed over, without refetching the buffer. Offsets at or below the last one taken in are
 * dropped (a server may resend from an earlier offset after a reconnect), so the handler sees each offset once, in
 * increasing order.
 */
final class SubscriptionImpl implements Subscription {
    /** One way to read a topic, used from the reader thread only. */
    interface Reader {
        /**
         * Reads from {@code sub.position()} on {@code server}, reporting to {@code sub} until interrupted or the
         * connection ends. IOException: the connection ended (it will be resumed); {@link SwitchboardException}: the
         * server refused for good.
         */
        void stream(URI server, SubscriptionImpl sub) throws IOException, InterruptedException;

        /** Cuts the connection in use, from another thread, so that {@link #stream} returns. */
        void abort();
    }

    private final Rest rest;
    private final String topic;
    private final SubscribeOptions options;
    private final MessageHandler handler;
    private final ConnectionListener listener;
    private final Reader reader;
    private final BlockingQueue<Object> buffer;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final CountDownLatch stopped = new CountDownLatch(2);
    private final Object lock = new Object();
    private final Thread readerThread;
    private final Thread deliveryThread;

    // Reader thread's.
    private From position;
    private long lastTaken;
    /**
     * A pattern subscription's position: the next offset of each topic it knows, null until the server first said
     * which topics it follows. Topics not in it are ones this subscription has not seen yet.
     */
    private Map<String, Long> topicPositions;
    private boolean connectedOnce;

    private volatile long lastOffset;
    private volatile boolean closing;
    private boolean inHandler; // guarded by lock

    SubscriptionImpl(Rest rest, String topic, From from, SubscribeOptions options, MessageHandler handler,
                     Reader reader) {
        this.rest = rest;
        this.topic = topic;
        this.options = options;
        this.handler = handler;
        this.listener = rest.options.listener();
        this.reader = reader;
        this.position = from;
        this.buffer = new ArrayBlockingQueue<>(options.bufferSize());
        this.readerThread = new Thread(this::read, "switchboard-sub-" + topic + "-reader");
        this.deliveryThread = new Thread(this::deliver, "switchboard-sub-" + topic + "-delivery");
        readerThread.setDaemon(true);
        deliveryThread.setDaemon(true);
    }

    void start() {
        deliveryThread.start();
        readerThread.start();
    }

    @Override
    public String topic() {
        return topic;
    }

    @Override
    public long lastOffset() {
        return lastOffset;
    }

    @Override
    public int buffered() {
        return buffer.size();
    }

    @Override
    public CompletableFuture<Void> closed() {
        return closed;
    }

    @Override
    public void close() {
        stop();
        Thread me = Thread.currentThread();
        if (me != readerThread && me != deliveryThread) {
            try {
                stopped.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                me.interrupt();
            }
        }
        closed.complete(null);
    }

    private void stop() {
        synchronized (lock) {
            if (closing) {
                return;
            }
            closing = true;
            if (!inHandler) {
                deliveryThread.interrupt();
            }
        }
        readerThread.interrupt();
        reader.abort();
    }

    private void fail(Throwable cause) {
        closed.completeExceptionally(cause);
        stop();
    }

    // ---- Reader thread

    private void read() {
        Backoff backoff = new Backoff(rest.options.reconnectMin(), rest.options.reconnectMax());
        try {
            while (!closing) {
                URI server = rest.endpoints.current();
                connectedOnce = false;
                try {
                    reader.stream(server, this);
                } catch (IOException | RuntimeException e) {
                    if (closing) {
                        return;
                    }
                    if (e instanceof SwitchboardException refused && !refused.retryable()) {
                        fail(refused);
                        return;
                    }
                    listener.disconnected(topic, server, e instanceof IOException
                            ? new ConnectionException("lost " + server + ": " + Errors.describe(e), e) : e);
                    rest.endpoints.failed(server);
                }
                if (closing) {
                    return;
                }
                if (connectedOnce) {
                    backoff.reset();
                }
                Duration delay = backoff.next();
                listener.reconnecting(topic, rest.endpoints.current(), delay);
                Thread.sleep(delay.toMillis());
            }
        } catch (InterruptedException e) {
            // closing
        } catch (Throwable t) {
            fail(t);
        } finally {
            stopped.countDown();
        }
    }

    /** Where the next connection starts. */
    From position() {
        return position;
    }

    SubscribeOptions options() {
        return options;
    }

    Rest rest() {
        return rest;
    }

    ConnectionListener listener() {
        return listener;
    }

    void connected(URI server) {
        connectedOnce = true;
        listener.connected(topic, server);
    }

    /** Where each topic of a pattern resumes, or null before the server first answered the pattern. */
    Map<String, Long> topicPositions() {
        return topicPositions;
    }

    /**
     * The server answered a pattern with the topics it follows and where each starts: a reconnect resumes each of
     * them there (or later), and any other topic from its first message.
     */
    void pinTopics(Map<String, Long> following) {
        if (topicPositions == null) {
            topicPositions = new HashMap<>();
        }
        following.forEach((t, next) -> topicPositions.merge(t, next, Math::max));
    }

    /** The server resolved {@code next}: a reconnect must resume there, not at a later "next". */
    void pin(long next) {
        if (position.isNext()) {
            position = From.offset(next);
        }
    }

    /** A poll's {@code next}: where the following request starts. */
    void moveTo(long next) {
        if (!position.isOffset() || next > position.offsetValue()) {
            position = From.offset(next);
        }
    }

    /** Takes in a message, waiting for room in the buffer: this wait is what slows the stream. */
    void message(Message m) throws InterruptedException {
        if (topicPositions != null) {
            if (m.offset() < topicPositions.getOrDefault(m.topic(), 0L)) {
                return;
            }
            buffer.put(m);
            topicPositions.put(m.topic(), m.offset() + 1);
            return;
        }
        if (m.offset() <= lastTaken) {
            return;
        }
        buffer.put(m);
        lastTaken = m.offset();
        moveTo(m.offset() + 1);
    }

    /** @param gapTopic the topic of the gap: this subscription's, or one of its pattern's */
    void gap(String gapTopic, long from, long first) throws InterruptedException {
        Gap gap = new Gap(gapTopic, from, first);
        listener.gap(gap);
        buffer.put(gap);
        if (topicPositions != null) {
            topicPositions.merge(gapTopic, first, Math::max);
        } else {
            moveTo(first);
        }
    }

    // ---- Delivery thread

    private void deliver() {
        try {
            while (true) {
                Object item = buffer.take();
                synchronized (lock) {
                    if (closing) {
                        return;
                    }
                    inHandler = true;
                }
                try {
                    if (item instanceof Message m) {
                        lastOffset = m.offset();
                        handler.onMessage(m);
                    } else {
                        options.gapHandler().accept((Gap) item);
                    }
                } finally {
                    synchronized (lock) {
                        inHandler = false;
                    }
                }
                if (closing) {
                    return; // close() came during the handler, so it did not interrupt us
                }
            }
        } catch (InterruptedException e) {
            // closing
        } catch (Throwable t) {
            fail(t);
        } finally {
            stopped.countDown();
        }
    }
}
