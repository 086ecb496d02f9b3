package dev.switchboard.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MeasurementsTest {

    @Test
    void publishersAreHeldBackOnlyWhileSubscribersLagBeyondTheBound() {
        Measurements m = new Measurements();
        m.published.add(1_000_000);
        assertThat(m.backlogFull()).as("unbounded by default").isFalse();

        m.boundBacklog(10, 100);               // 10 subscribers, 100 messages each: 1,000 deliveries
        m.published.reset();
        m.published.add(200);                  // 2,000 deliveries due
        m.delivered.add(1_000);                // 1,000 outstanding: at the bound, not past it
        assertThat(m.backlogFull()).isFalse();
        m.published.increment();               // 1,010 outstanding
        assertThat(m.backlogFull()).isTrue();
        m.delivered.add(10);
        assertThat(m.backlogFull()).isFalse();
    }

    @Test
    void aMessageIsMeasuredFromTheStartOnWhateverTheClockReads() {
        Measurements m = new Measurements();
        assertThat(m.measured(0)).as("before any start").isZero();
        assertThat(m.measured(Long.MIN_VALUE)).isZero();
        assertThat(m.measured(Long.MAX_VALUE - 1)).isZero();
        for (long start : new long[] {1_000, -1_000, Long.MIN_VALUE + 5, Long.MAX_VALUE - 5}) {
            m.startMeasuringAt(start);
            assertThat(m.measured(start - 1)).as("just before %d", start).isZero();
            assertThat(m.measured(start)).as("at %d", start).isOne();
            assertThat(m.measured(start + 1)).as("just after %d", start).isOne();
        }
        m.startMeasuringAt(10);
        assertThat(m.measured(Long.MIN_VALUE)).isZero();
        assertThat(m.measured(Long.MAX_VALUE)).isOne();
    }

    @Test
    void warmUpDeliveriesAreCountedButNotMeasured() {
        Measurements m = new Measurements();
        m.startMeasuringAt(1_000_000);
        Measurements.LoopStats stats = m.forCurrentThread();
        stats.delivered(500_000, 900_000);       // warm-up
        stats.delivered(1_000_000, 3_000_000);   // measured: 2,000 us
        stats.delivered(1_500_000, 2_500_000);   // measured: 1,000 us, the last to arrive
        assertThat(m.delivered.sum()).as("added once per read").isZero();
        stats.flushDelivered();
        assertThat(m.delivered.sum()).isEqualTo(3);
        assertThat(m.measuredDeliveries()).isEqualTo(2);
        assertThat(m.lastDeliveryNanos()).isEqualTo(2_500_000);
        assertThat(m.latencyMicros().getTotalCount()).isEqualTo(2);
        assertThat(m.latencyMicros().getMinValue()).isEqualTo(1_000);
        assertThat(m.latencyMicros().getMaxValue()).isBetween(2_000L, 2_002L);

        stats.acked(0);
        stats.acked(System.nanoTime());
        assertThat(m.ackLatencyMicros().getTotalCount()).as("only the measured publish").isEqualTo(1);
    }
}
