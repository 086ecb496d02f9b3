/**
 * Consumer groups: the members of a group share a topic, each message leased to one member at a time until it is
 * acknowledged, redelivered when a lease expires, moved to {@code {topic}.dead} after too many deliveries
 * (docs/groups.md). Built on the broker contract alone, so every engine and every transport gets the same groups.
 *
 * <p>Threads: every change of every group runs on one executor ({@link dev.switchboard.groups.GroupService}), against
 * state only that thread touches, so nothing on the hot path takes a lock; a group's committed position and leases
 * are stored as engine records, each change in one {@link dev.switchboard.broker.Transaction}.
 */
package dev.switchboard.groups;
