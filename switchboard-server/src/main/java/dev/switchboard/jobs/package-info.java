/**
 * Jobs: asynchronous requests with handles, on the broker contract alone. Each change of a job stores its state and
 * appends its event to the topic {@code _jobs.<id>} at once, so following a job is following a topic.
 *
 * <p>{@link dev.switchboard.jobs.JobService} checks input ({@link dev.switchboard.jobs.JobRules}) and waits by
 * following a job's topic; a {@link dev.switchboard.jobs.JobStore} keeps the jobs. On an engine of one node,
 * {@link dev.switchboard.jobs.EmbeddedJobStore}: each change is one {@link dev.switchboard.broker.Transaction} run on
 * the engine's writer thread against maps only that thread touches ({@link dev.switchboard.jobs.JobStateMachine}),
 * reads come from the state published after each commit, and timers on one scheduler thread only submit
 * transactions ({@link dev.switchboard.jobs.JobTimers}). On an engine whose nodes share jobs,
 * {@link dev.switchboard.jobs.LedgerJobStore}: every call is one atomic operation of the engine's
 * {@link dev.switchboard.broker.JobLedger}, which also expires leases.
 */
package dev.switchboard.jobs;
