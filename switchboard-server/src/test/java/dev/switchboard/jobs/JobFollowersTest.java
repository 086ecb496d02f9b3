package dev.switchboard.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class JobFollowersTest {
    private static Job job(String id, long version) {
        return new Job(id, "q", JobStatus.RUNNING, 1, null, null, version, 0, 0, "text/plain", 0, null, 0, null,
                null, "token", 0, 0, 1, null, null);
    }

    @Test
    void everyFollowerOfAJobIsHandedEachChangeInOrderAndNoOtherJobs() {
        List<String> seen = new ArrayList<>();
        JobFollowers f = new JobFollowers();
        f.add("j1", j -> seen.add("a" + j.version()));
        f.add("j1", j -> seen.add("b" + j.version()));
        f.add("j2", j -> seen.add("other" + j.version()));

        f.changed("j1", job("j1", 1));
        f.changed("j1", job("j1", 2));

        assertThat(seen).containsExactly("a1", "b1", "a2", "b2");
    }

    @Test
    void aFollowerThatStopsWhileBeingHandedAChangeStopsAloneAndLeavesNothingBehind() {
        JobFollowers f = new JobFollowers();
        List<Job> seen = new ArrayList<>();
        Runnable[] stop = new Runnable[1];
        stop[0] = f.add("j1", j -> {
            seen.add(j);
            stop[0].run(); // as a waiter does once its wait is over: on the writer, inside the hand-over
        });
        Runnable other = f.add("j1", seen::add);

        f.changed("j1", job("j1", 1));
        f.changed("j1", null); // the job expired

        assertThat(seen).hasSize(3).containsNull();
        assertThat(f.followed()).isEqualTo(1);
        other.run();
        assertThat(f.followed()).isZero();
        f.changed("j1", job("j1", 2));
        assertThat(seen).hasSize(3);
    }
}
