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
}
