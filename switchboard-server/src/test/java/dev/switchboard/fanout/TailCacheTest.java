package dev.switchboard.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.broker.Message;
import org.junit.jupiter.api.Test;

class TailCacheTest {

    private static Message msg(long offset, int size) {
        return new Message("t", offset, 1000 + offset, "text/plain", new byte[size]);
    }

    private static TailBudget unlimited() {
        return new TailBudget(Long.MAX_VALUE);
    }

    @Test
    void sharedBudgetBoundsAllCachesAndShrinksTheOneBeingWritten() {
        TailBudget budget = new TailBudget(1000);
        TailCache first = new TailCache(64, 1 << 20, budget);
        TailCache second = new TailCache(64, 1 << 20, budget);
        addRange(first, 1, 8, 100);
        assertThat(budget.used()).isEqualTo(800);

        addRange(second, 1, 4, 100);

        // Past the total, the cache being written keeps only its newest message; the other keeps its own.
        assertThat(budget.used()).isLessThanOrEqualTo(1000);
        assertThat(second.get(4)).isNotNull();
        assertThat(second.get(1)).isNull();
        assertThat(first.get(1)).isNotNull();
        assertThat(budget.used()).isEqualTo(first.bytes() + second.bytes());

        first.clear();
        assertThat(budget.used()).isEqualTo(second.bytes());
    }

    private static void addRange(TailCache cache, long from, long to, int size) {
        for (long o = from; o <= to; o++) {
            cache.add(msg(o, size));
        }
    }

    @Test
    void aClosedCacheGivesItsBudgetBackAndTakesNoLateAdds() {
        TailBudget budget = new TailBudget(1 << 20);
        TailCache cache = new TailCache(16, 1 << 20, budget);
        addRange(cache, 1, 4, 100);
        assertThat(budget.used()).isEqualTo(400);

        cache.close();
        cache.add(msg(5, 100)); // the engine may still be telling a feed that was just dropped
        assertThat(budget.used()).isZero();
        assertThat(cache.get(5)).isNull();
        assertThat(cache.bytes()).isZero();
    }

    @Test
    void aCacheBeforeItsFirstMessageMissesEveryOffsetAndClearsThenFillsAsAnyOther() {
        // It holds no slots until a message comes (a feed of held polls only): nothing may be found or written there.
        TailCache cache = new TailCache(16, 1 << 20, unlimited());
        assertThat(cache.get(0)).isNull();
        assertThat(cache.get(1)).isNull();
        cache.clear();
        assertThat(cache.bytes()).isZero();
        for (long o = 1; o <= 40; o++) {
            cache.add(msg(o, 1));
        }
        assertThat(cache.get(24)).as("the newest 16 are kept").isNull();
        assertThat(cache.get(25).offset()).isEqualTo(25);
        assertThat(cache.get(40).offset()).isEqualTo(40);
        cache.clear();
        assertThat(cache.get(40)).isNull();
        cache.add(msg(41, 2));
        assertThat(cache.get(41).offset()).isEqualTo(41);
        assertThat(cache.bytes()).isEqualTo(2);
    }

    @Test
    void addedMessagesAreFoundByOffsetAndOthersMiss() {
        TailCache cache = new TailCache(16, 1 << 20, unlimited());
        Message one = msg(1, 3);
        Message two = msg(2, 4);
        cache.add(one);
        cache.add(two);

        assertThat(cache.get(1)).isSameAs(one);
        assertThat(cache.get(2)).isSameAs(two);
        assertThat(cache.get(3)).isNull();
        assertThat(cache.get(17)).as("same slot as 1, different offset").isNull();
        assertThat(cache.get(0)).isNull();
        assertThat(cache.bytes()).isEqualTo(7);
    }

    @Test
    void emptyCacheMissesEverything() {
        TailCache cache = new TailCache(16, 1024, unlimited());
        assertThat(cache.get(0)).isNull();
        assertThat(cache.get(1)).isNull();
        assertThat(cache.bytes()).isZero();
    }

    @Test
    void firstMessageMayStartAtAnyOffset() {
        // After a restart the tail starts empty and the topic continues at last + 1.
        TailCache cache = new TailCache(16, 1024, unlimited());
        addRange(cache, 501, 520, 1);
        assertThat(cache.get(500)).isNull();
        for (long o = 505; o <= 520; o++) {
            assertThat(cache.get(o)).as("offset %d", o).isNotNull();
        }
    }

    @Test
    void growsBeyondItsInitialSizeUpToMaxSlots() {
        TailCache cache = new TailCache(256, 1 << 20, unlimited());
        addRange(cache, 1, 200, 10);

        for (long o = 1; o <= 200; o++) {
            assertThat(cache.get(o)).as("offset %d after growth", o).isNotNull()
                    .extracting(Message::offset).isEqualTo(o);
        }
        assertThat(cache.bytes()).isEqualTo(2000);
    }

    @Test
    void evictsTheOldestBeyondMaxSlots() {
        TailCache cache = new TailCache(64, 1 << 20, unlimited());
        addRange(cache, 1, 100, 10);

        for (long o = 1; o <= 36; o++) {
            assertThat(cache.get(o)).as("evicted offset %d", o).isNull();
        }
        for (long o = 37; o <= 100; o++) {
            assertThat(cache.get(o)).as("kept offset %d", o).isNotNull();
        }
        assertThat(cache.bytes()).isEqualTo(64 * 10);
    }

    @Test
    void evictsTheOldestBeyondMaxBytes() {
        TailCache cache = new TailCache(1024, 100, unlimited());
        addRange(cache, 1, 30, 10);

        assertThat(cache.bytes()).isEqualTo(100);
        for (long o = 1; o <= 20; o++) {
            assertThat(cache.get(o)).as("evicted offset %d", o).isNull();
        }
        for (long o = 21; o <= 30; o++) {
            assertThat(cache.get(o)).as("kept offset %d", o).isNotNull();
        }
    }

    @Test
    void aMessageLargerThanMaxBytesIsStillHeldAlone() {
        TailCache cache = new TailCache(16, 100, unlimited());
        addRange(cache, 1, 3, 10);
        cache.add(msg(4, 500));

        assertThat(cache.get(4)).isNotNull();
        assertThat(cache.get(3)).isNull();
        assertThat(cache.bytes()).isEqualTo(500);

        cache.add(msg(5, 10));
        assertThat(cache.get(4)).as("evicted once a newer one arrives").isNull();
        assertThat(cache.get(5)).isNotNull();
        assertThat(cache.bytes()).isEqualTo(10);
    }

    @Test
    void staysContiguousEndingAtTheNewestWhateverEvictsIt() {
        // Mix sizes so that byte-eviction, slot-eviction and growth interleave.
        TailCache cache = new TailCache(128, 4096, unlimited());
        for (long o = 1; o <= 5000; o++) {
            cache.add(msg(o, (int) (o * 37 % 200)));
            long firstHit = -1;
            for (long p = Math.max(1, o - 300); p <= o; p++) {
                boolean hit = cache.get(p) != null;
                if (hit && firstHit < 0) {
                    firstHit = p;
                }
                if (firstHit >= 0) {
                    assertThat(hit).as("after adding %d: %d is held, so %d must be", o, firstHit, p).isTrue();
                }
            }
            assertThat(firstHit).as("the newest is always held").isPositive();
            assertThat(o - firstHit + 1).isLessThanOrEqualTo(128);
            assertThat(cache.bytes()).isLessThanOrEqualTo(Math.max(4096, o * 37 % 200));
        }
    }

    @Test
    void clearDropsEverythingAndTheNextOffsetContinues() {
        TailCache cache = new TailCache(256, 1 << 20, unlimited());
        addRange(cache, 1, 100, 5);
        cache.clear();

        assertThat(cache.bytes()).isZero();
        for (long o = 1; o <= 100; o++) {
            assertThat(cache.get(o)).as("offset %d after clear", o).isNull();
        }
        addRange(cache, 101, 120, 5);
        assertThat(cache.get(100)).isNull();
        assertThat(cache.get(101)).isNotNull();
        assertThat(cache.get(120)).isNotNull();
        assertThat(cache.bytes()).isEqualTo(100);
    }

    @Test
    void aHoleClearsWhatCameBefore() {
        TailCache cache = new TailCache(64, 1 << 20, unlimited());
        addRange(cache, 1, 10, 5);
        cache.add(msg(15, 7));

        for (long o = 1; o <= 14; o++) {
            assertThat(cache.get(o)).as("offset %d before the hole", o).isNull();
        }
        assertThat(cache.get(15)).isNotNull();
        assertThat(cache.bytes()).isEqualTo(7);

        addRange(cache, 16, 40, 1);
        for (long o = 15; o <= 40; o++) {
            assertThat(cache.get(o)).as("offset %d after the hole", o).isNotNull();
        }
    }

    @Test
    void rejectsSlotCountsThatAreNotPowersOfTwo() {
        assertThatThrownBy(() -> new TailCache(100, 1024, unlimited())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new TailCache(8, 1024, unlimited())).isInstanceOf(IllegalArgumentException.class);
    }
}
