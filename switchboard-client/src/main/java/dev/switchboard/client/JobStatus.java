package dev.switchboard.client;

import java.util.Locale;

/** Where a job is in its life: queued, running, then one of the three finished states. */
public enum JobStatus {
    QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED;

    /** Succeeded, failed or cancelled: it will not change again. */
    public boolean finished() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    /** The status as the API writes it, e.g. {@code queued}. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The status for its wire name. */
    public static JobStatus fromWire(String status) {
        return valueOf(status.toUpperCase(Locale.ROOT));
    }
}
