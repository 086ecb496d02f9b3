/**
 * Consumer groups: the members of a group share a topic, each message leased to one member at a time until it is
 * acknowledged, redelivered when a lease expires, moved to {@code {topic}.dead} after too many deliveries
 * (docs/groups.md). Every transport gets the same groups through {@link dev.switchboard.groups.GroupService}.
 *
 * <p>Two homes behind it: on an engine of one node a group lives in memory ({@code LocalGroups}), every change on one
 * executor against state only that thread touches, so nothing on the hot path takes a lock, its committed position
 * and leases stored as engine records, each change in one {@link dev.switchboard.broker.Transaction}; on an engine
 * shared by nodes it lives in the engine ({@code SharedGroups} over {@link dev.switchboard.broker.GroupLedger}), each
 * operation atomic there, so members of one group on several nodes share it.
 */
package dev.switchboard.groups;
