package dev.switchboard.groups;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * One group's meters ({@code switchboard_group_*}, docs/groups.md "Metrics"), tagged with its topic and group:
 * series exist only for groups that exist, at most {@code --max-groups-per-topic} per topic, and go when the group
 * does. The gauges show what the groups' thread last published, so a scrape never waits for or races with it.
 */
final class GroupMeters {
    private final MeterRegistry registry;
    private final List<Meter> meters;
    final Counter delivered;
    final Counter redelivered;
    final Counter acked;
    final Counter deadLettered;
    private volatile long lag;
    private volatile int inFlight;
    private volatile int members;

    GroupMeters(MeterRegistry registry, String topic, String group) {
        this.registry = registry;
        delivered = counter("switchboard.group.delivered", topic, group, "Messages handed to members, redeliveries"
                + " included");
        redelivered = counter("switchboard.group.redelivered", topic, group, "Messages handed out again after a lease"
                + " expired or was given back");
        acked = counter("switchboard.group.acked", topic, group, "Messages acknowledged");
        deadLettered = counter("switchboard.group.dead.lettered", topic, group, "Messages moved to {topic}.dead after"
                + " their last delivery");
        meters = List.of(delivered, redelivered, acked, deadLettered,
                gauge("switchboard.group.lag", topic, group, m -> m.lag, "Messages not yet acknowledged"),
                gauge("switchboard.group.in.flight", topic, group, m -> m.inFlight, "Messages leased to members now"),
                gauge("switchboard.group.members", topic, group, m -> m.members, "Members holding leases, waiting,"
                        + " or seen within the ack timeout"));
    }

    private Counter counter(String name, String topic, String group, String description) {
        return Counter.builder(name).tag("topic", topic).tag("group", group).description(description)
                .register(registry);
    }

    private Gauge gauge(String name, String topic, String group, ToDoubleFunction<GroupMeters> value,
                        String description) {
        return Gauge.builder(name, this, value).tag("topic", topic).tag("group", group).description(description)
                .register(registry);
    }

    /** On the groups' thread: the state the gauges show until the next call. */
    void show(long lag, int inFlight, int members) {
        this.lag = lag;
        this.inFlight = inFlight;
        this.members = members;
    }

    /** The group is gone: so are its series. */
    void remove() {
        meters.forEach(registry::remove);
    }
}
