/**
 * Jobs: asynchronous requests with handles, on the broker contract alone. Each change of a job is one
 * {@link dev.switchboard.broker.Transaction} that stores the job's record and appends its event to the topic
 * {@code _jobs.<id>}, so following a job is following a topic.
 *
 * <p>Threads: {@link dev.switchboard.jobs.JobService} checks input ({@link dev.switchboard.jobs.JobRules}) and
 * answers reads on the caller's thread, from the state published after each commit; job state changes run inside
 * transactions on the engine's writer thread, against maps only that thread touches
 * ({@link dev.switchboard.jobs.JobStateMachine}); timers run on one scheduler thread and only submit transactions
 * ({@link dev.switchboard.jobs.JobTimers}).
 */
package dev.switchboard.jobs;
