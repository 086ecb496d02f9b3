package dev.switchboard.jobs;

/**
 * A change of a job as its topic shows it, kept in the job's record until someone reads the topic
 * ({@link JobTopics}): the event's type, the commit's time and the job's public JSON.
 */
record JobEvent(String type, long time, byte[] data) {}
