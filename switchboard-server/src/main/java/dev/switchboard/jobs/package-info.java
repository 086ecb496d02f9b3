/**
 * Jobs: asynchronous requests with handles, on the broker contract alone. Each change of a job is one
 * {@link dev.switchboard.broker.Transaction} that stores the job's record and appends its event to the topic
 * {@code _jobs.<id>}, so following a job is following a topic.
 *
 * <p>Threads: job state changes run inside transactions on the engine's thread; readers see the state published
 * after each commit; timers run on one scheduler thread and only submit transactions.
 */
package dev.switchboard.jobs;
