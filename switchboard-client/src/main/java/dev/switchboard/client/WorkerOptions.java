package dev.switchboard.client;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link Worker} claims and runs jobs. Immutable; build with {@link #builder()}.
 */
public final class WorkerOptions {
    private final int concurrency;
    private final Duration lease;
    private final Duration closeGrace;
    private final WorkerListener listener;
    private final int maxJobs;

    private WorkerOptions(Builder b) {
        this.maxJobs = b.maxJobs;
        this.listener = b.listener;
        this.concurrency = b.concurrency;
        this.lease = b.lease;
        this.closeGrace = b.closeGrace;
    }

    /** One job at a time, the queue's lease, 10 s for running jobs to finish on close, no listener. */
    public static WorkerOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public int concurrency() {
        return concurrency;
    }

    /** The lease of each claim; null for the queue's. */
    public Duration lease() {
        return lease;
    }

    public Duration closeGrace() {
        return closeGrace;
    }

    public WorkerListener listener() {
        return listener;
    }

    /** Jobs after which the worker stops by itself; 0 for no limit. */
    public int maxJobs() {
        return maxJobs;
    }

    /** Builds {@link WorkerOptions}; each setter checks its argument at once. */
    public static final class Builder {
        private int concurrency = 1;
        private Duration lease;
        private Duration closeGrace = Duration.ofSeconds(10);
        private WorkerListener listener = new WorkerListener() {};
        private int maxJobs;

        private Builder() {}

        /** Jobs run at the same time, each on its own thread: 1 to 1000. */
        public Builder concurrency(int concurrency) {
            if (concurrency < 1 || concurrency > 1000) {
                throw new IllegalArgumentException("concurrency must be 1 to 1000, got " + concurrency);
            }
            this.concurrency = concurrency;
            return this;
        }

        /**
         * The lease of each claim, 1 s to 24 h: without a heartbeat for this long the server requeues the job. The
         * worker heartbeats every third of it while the handler runs.
         */
        public Builder lease(Duration lease) {
            Objects.requireNonNull(lease, "lease");
            if (lease.compareTo(Duration.ofSeconds(1)) < 0 || lease.compareTo(Duration.ofHours(24)) > 0) {
                throw new IllegalArgumentException("lease must be 1s to 24h, got " + lease);
            }
            this.lease = lease;
            return this;
        }

        /**
         * On {@link Worker#close()}, how long running handlers may go on before they are interrupted; a job whose
         * handler then does not return a result is handed back to the queue.
         */
        public Builder closeGrace(Duration closeGrace) {
            Objects.requireNonNull(closeGrace, "closeGrace");
            if (closeGrace.isNegative()) {
                throw new IllegalArgumentException("closeGrace must not be negative");
            }
            this.closeGrace = closeGrace;
            return this;
        }

        public Builder listener(WorkerListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * Stops after claiming this many jobs and handling them (0, the default: no limit): a worker for a known
         * batch of work, or a process that exits to free its resources. It never claims a job it will not run.
         */
        public Builder maxJobs(int maxJobs) {
            if (maxJobs < 0) {
                throw new IllegalArgumentException("maxJobs must not be negative, got " + maxJobs);
            }
            this.maxJobs = maxJobs;
            return this;
        }

        public WorkerOptions build() {
            return new WorkerOptions(this);
        }
    }
}
