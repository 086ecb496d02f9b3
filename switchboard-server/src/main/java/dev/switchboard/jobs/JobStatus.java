package dev.switchboard.jobs;

import java.util.Locale;

/** A job's lifecycle: queued → running → succeeded | failed | cancelled; running may go back to queued (retry). */
public enum JobStatus {
    QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED;

    public boolean isTerminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static JobStatus fromWire(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
