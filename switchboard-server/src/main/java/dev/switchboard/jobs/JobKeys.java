package dev.switchboard.jobs;

import java.security.SecureRandom;

/**
 * Where jobs live in the engine: records outside topics, and one topic per job. In one place because the writer
 * stages them, the sweep deletes them and a restart reads them back; a key spelled two ways would orphan records.
 */
final class JobKeys {
    /** Prefix of the job records ({@link JobJson#record}), read back on start. */
    static final String JOBS = "j/";
    /** Prefix of the queue settings records ({@link JobJson#settingsRecord}), read back on start. */
    static final String QUEUES = "q/";
    private static final String PAYLOADS = "p/";
    private static final String RESULTS = "r/";
    private static final String TOPIC_PREFIX = "_jobs.";

    private JobKeys() {}

    static String job(String id) {
        return JOBS + id;
    }

    static String payload(String id) {
        return PAYLOADS + id;
    }

    static String result(String id) {
        return RESULTS + id;
    }

    static String queue(String queue) {
        return QUEUES + queue;
    }

    /** The queue whose settings record has this key. */
    static String queueOf(String settingsKey) {
        return settingsKey.substring(QUEUES.length());
    }

    /** A new job's id: 120 random bits, so ids never collide, whichever node gives them out. */
    static String newId(SecureRandom random) {
        byte[] b = new byte[15];
        random.nextBytes(b);
        return Base32.encode(b);
    }

    /** The job's topic: its events, so following a job is following a topic. */
    static String topic(String id) {
        return TOPIC_PREFIX + id;
    }
}
