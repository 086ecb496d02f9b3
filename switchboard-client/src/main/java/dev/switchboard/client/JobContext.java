package dev.switchboard.client;

/**
 * What a {@link JobHandler} gets: the claimed job's payload and a way to report progress. Valid while the handler
 * runs, on the worker's thread that runs it.
 */
public interface JobContext {
    String id();

    String queue();

    /** 1 for the first attempt; grows each time the job went back to the queue. */
    int attempt();

    /** The payload's content type. */
    String payloadType();

    /** The payload's bytes (a copy). */
    byte[] payload();

    /** The payload as UTF-8 text. */
    String payloadText();

    /**
     * Reports progress (percent 0-100, message up to 1024 chars or null). Sent without waiting: when reports come
     * faster than the server answers, only the latest is sent.
     */
    void progress(int percent, String message);

    /**
     * Whether the job's lease was lost (the server gave it to another worker or it was cancelled): the handler's
     * outcome will be dropped, so it may stop. The handler's thread is also interrupted then.
     */
    boolean leaseLost();
}
