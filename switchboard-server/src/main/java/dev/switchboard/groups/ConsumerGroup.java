package dev.switchboard.groups;

import dev.switchboard.broker.Broker;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One group's state, touched only by the groups' executor. Every offset of the topic below {@link #next} that has no
 * lease is done; a lease without a member is waiting in {@link #available} to be delivered (again).
 */
final class ConsumerGroup {
    final String topic;
    final String name;
    /** The lowest offset never handed out. */
    long next;
    /** The topic's first retained offset as the groups' thread knows it: a lease below it has no message left. */
    long firstRetained = 1;
    /** The topic's last offset as the groups' thread knows it. */
    long lastOffset;
    /** The last offset the topic's watcher heard of, written on the engine's thread: one hand-over per commit. */
    final AtomicLong published = new AtomicLong();
    final TreeMap<Long, Lease> leases = new TreeMap<>();
    /** Leases with no member, in offset order: the next to deliver before any new offset. */
    final TreeSet<Long> available = new TreeSet<>();
    /** Leases whose message is on its way to the dead-letter topic: neither deliverable nor acknowledgeable. */
    final Set<Long> dying = new HashSet<>();
    /** Leases held by each member. */
    final Map<String, Integer> held = new HashMap<>();
    /** When each member last fetched or acknowledged (wall-clock ms), to count members who hold nothing now. */
    final Map<String, Long> lastSeen = new HashMap<>();
    /** Members waiting for messages: held fetches, oldest first, and push members. */
    final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    final GroupMeters meters;
    Broker.Watch watch;

    ConsumerGroup(String topic, String name, long next, GroupMeters meters) {
        this.topic = topic;
        this.name = name;
        this.next = next;
        this.meters = meters;
    }

    /** The lowest offset not yet acknowledged. */
    long committed() {
        return leases.isEmpty() ? next : Math.min(leases.firstKey(), next);
    }

    int heldBy(String member) {
        return held.getOrDefault(member, 0);
    }

    int inFlight() {
        int n = 0;
        for (int h : held.values()) {
            n += h;
        }
        return n;
    }

    /** Messages not yet acknowledged: leased, waiting to be delivered again, or never handed out. */
    long lag() {
        return Math.max(0, lastOffset - next + 1) + leases.size();
    }

    /** Members holding leases, waiting, or seen within {@code since}. */
    int members(long since) {
        Set<String> members = new HashSet<>(held.keySet());
        for (Waiter w : waiters) {
            members.add(w.member());
        }
        lastSeen.forEach((m, t) -> {
            if (t >= since) {
                members.add(m);
            }
        });
        return members.size();
    }

    /**
     * Leases up to {@code count} offsets to {@code member} until {@code expires}: those waiting for redelivery first,
     * then new ones up to the topic's end and {@code maxPending} past the committed offset.
     */
    List<Long> take(String member, int count, long expires, int maxPending) {
        List<Long> taken = new ArrayList<>();
        while (taken.size() < count && !available.isEmpty()) {
            long o = available.pollFirst();
            assign(o, member, expires, leases.get(o).deliveries() + 1);
            taken.add(o);
        }
        long window = committed() + maxPending;
        while (taken.size() < count && next <= lastOffset && next < window) {
            long o = next++;
            assign(o, member, expires, 1);
            taken.add(o);
        }
        return taken;
    }

    private void assign(long offset, String member, long expires, int deliveries) {
        leases.put(offset, new Lease(member, expires, deliveries));
        held.merge(member, 1, Integer::sum);
    }

    /** Gives a member's lease up: its message waits for the next fetch, its delivery counted. */
    void release(long offset) {
        Lease l = leases.get(offset);
        if (l != null && l.held()) {
            unhold(l.member());
            leases.put(offset, Lease.released(l.deliveries()));
            available.add(offset);
        }
    }

    /** Takes back a lease whose delivery did not happen (its store failed): as if never handed out this time. */
    void undo(long offset) {
        Lease l = leases.get(offset);
        if (l != null && l.held()) {
            unhold(l.member());
            leases.put(offset, Lease.released(l.deliveries() - 1));
            available.add(offset);
        }
    }

    /** Removes a done offset's lease. */
    Lease remove(long offset) {
        Lease l = leases.remove(offset);
        available.remove(offset);
        dying.remove(offset);
        if (l != null && l.held()) {
            unhold(l.member());
        }
        return l;
    }

    private void unhold(String member) {
        held.computeIfPresent(member, (m, n) -> n == 1 ? null : n - 1);
    }

    /** Offsets held by {@code member}. */
    List<Long> heldOffsets(String member) {
        List<Long> offsets = new ArrayList<>();
        leases.forEach((o, l) -> {
            if (member.equals(l.member())) {
                offsets.add(o);
            }
        });
        return offsets;
    }
}
