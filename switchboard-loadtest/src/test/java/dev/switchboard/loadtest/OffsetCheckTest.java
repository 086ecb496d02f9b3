package dev.switchboard.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class OffsetCheckTest {

    private static OffsetCheck.Result check(long firstPublished, long lastPublished, long... received) {
        OffsetCheck check = new OffsetCheck();
        for (long offset : received) {
            check.accept(offset);
        }
        return check.result(firstPublished, lastPublished);
    }

    @Test
    void exactDeliveryIsOk() {
        assertThat(check(1, 5, 1, 2, 3, 4, 5)).isEqualTo(new OffsetCheck.Result(0, 0, 0));
    }

    @Test
    void countsOffsetsNeverReceived() {
        assertThat(check(1, 8, 2, 3, 5, 6)).isEqualTo(new OffsetCheck.Result(4, 0, 0));
        assertThat(check(1, 3)).isEqualTo(new OffsetCheck.Result(3, 0, 0));
    }

    @Test
    void tellsLateOffsetsFromDuplicates() {
        assertThat(check(1, 6, 1, 2, 5, 3, 6, 3, 4, 6)).isEqualTo(new OffsetCheck.Result(0, 2, 2));
    }

    @Test
    void anOffsetBeforeTheFirstOneReceivedIsLate() {
        assertThat(check(1, 4, 3, 1, 4)).isEqualTo(new OffsetCheck.Result(1, 0, 1));
    }

    @Test
    void reachedMeansEveryOffsetUpToTheLastWasPassed() {
        OffsetCheck check = new OffsetCheck();
        check.accept(1);
        assertThat(check.reached(2)).isFalse();
        check.accept(3);
        assertThat(check.reached(3)).isTrue();
    }
}
