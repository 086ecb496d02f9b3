package dev.switchboard.fanout;

import dev.switchboard.broker.Message;
import java.util.List;

/**
 * A push subscriber's cursor into a topic's log (docs/architecture.md, "Cursors, not queues"). It holds only the next offset to deliver:
 * while the sink is writable it pushes from the in-memory tail, or from the store when it has fallen behind the tail;
 * when the sink is not writable it stops, and resumes from the same offset when {@link #drain()} is called again.
 * Nothing is queued per subscriber, so a reader that stops reading costs no memory beyond its socket buffers.
 *
 * <p>Threads: every method runs on the sink's event loop.
 */
public final class Subscription {
    /** Messages pushed in one turn before yielding the loop to other connections. */
    private static final int BURST = 512;
    private static final int FETCH_COUNT = 256;
    private static final long FETCH_BYTES = 1024 * 1024;

    private final TopicFeed topic;
    private final DeliverySink sink;
    private long next;
    private boolean fetching;
    private boolean closed;
    private boolean drainScheduled;

    Subscription(TopicFeed topic, long next, DeliverySink sink) {
        this.topic = topic;
        this.next = next;
        this.sink = sink;
    }

    public TopicFeed topic() {
        return topic;
    }

    public DeliverySink sink() {
        return sink;
    }

    /** The next offset this subscriber will be sent: where it resumes after a reconnect. */
    public long next() {
        return next;
    }

    public void start() {
        topic.fanout().add(this);
        drain();
    }

    public void close() {
        if (!closed) {
            closed = true;
            topic.fanout().remove(this);
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /** Pushes what the sink can take now, then flushes once. */
    public void drain() {
        SharedRuns runs = new SharedRuns();
        try {
            drain(runs);
        } finally {
            runs.release();
        }
    }

    /** {@link #drain()} with the runs other subscribers on this loop built in the same wake-up. */
    void drain(SharedRuns runs) {
        if (closed || fetching) {
            return;
        }
        SharedEncoding shared = sink.sharedEncoding();
        int sent = 0;
        while (!closed) {
            // Caught up first: after a run, the common end of a wake-up, without reading the socket's writability.
            if (next > topic.lastOffset() && !topic.isDeleted()) {
                break;
            }
            if (!sink.isWritable()) {
                break;
            }
            if (topic.isDeleted()) {
                close();
                sink.topicDeleted(topic.name());
                break;
            }
            long first = topic.firstOffset();
            if (next < first) {
                sink.gap(topic.name(), next, first);
                next = first;
                continue;
            }
            if (sent == BURST) {
                scheduleDrain();
                break;
            }
            Message m = topic.cached(next);
            if (m == null) {
                fetch();
                break;
            }
            SharedRuns.Run run = shared == null ? null : runs.from(topic, shared, next, BURST - sent);
            if (run != null) {
                sink.deliverShared(run.bytes().retainedDuplicate(), run.count());
                next += run.count();
                sent += run.count();
                continue;
            }
            sink.deliver(m);
            next++;
            sent++;
        }
        if (sent > 0 || closed) {
            sink.flush();
        }
    }

    private void scheduleDrain() {
        if (!drainScheduled) {
            drainScheduled = true;
            sink.executor().execute(() -> {
                drainScheduled = false;
                drain();
            });
        }
    }

    /** Behind the in-memory tail: read the next stretch from the store off the loop, deliver it back on the loop. */
    private void fetch() {
        fetching = true;
        long from = next;
        topic.fetch(from, FETCH_COUNT, FETCH_BYTES).whenComplete((batch, error) ->
                sink.executor().execute(() -> onFetched(from, batch, error)));
    }

    private void onFetched(long from, List<Message> batch, Throwable error) {
        fetching = false;
        if (closed || from != next) {
            return;
        }
        if (error == null) {
            int sent = 0;
            for (Message m : batch) {
                if (m.offset() < next) {
                    continue;
                }
                if (!sink.isWritable()) {
                    break; // the rest is read again once the socket drains: user space holds one chunk, not a read
                }
                if (m.offset() > next) {
                    // retention dropped what we were about to read
                    sink.gap(topic.name(), next, m.offset());
                    next = m.offset();
                }
                sink.deliver(m);
                next++;
                sent++;
            }
            if (sent > 0) {
                sink.flush();
            }
        }
        // On a read error the cursor stays put; the next signal or writability change retries.
        if (error == null) {
            drain();
        }
    }
}
