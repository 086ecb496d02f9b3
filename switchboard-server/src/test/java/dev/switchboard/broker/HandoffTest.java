package dev.switchboard.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.Test;

class HandoffTest {
    /** An event loop's queue: tasks wait until {@link #runQueued}. */
    private static final class Loop implements Executor {
        final List<Runnable> queued = new ArrayList<>();

        @Override
        public void execute(Runnable task) {
            queued.add(task);
        }

        void runQueued() {
            List<Runnable> now = List.copyOf(queued);
            queued.clear();
            now.forEach(Runnable::run);
        }
    }

    @Test
    void outsideABatchATaskIsHandedOverAtOnce() {
        Loop loop = new Loop();
        Handoff.execute(loop, () -> {});
        Handoff.execute(loop, () -> {});
        assertThat(loop.queued).hasSize(2);
    }

    @Test
    void insideABatchEachLoopGetsOneTaskAfterTheBatchRunningItsTasksInOrder() {
        Loop a = new Loop();
        Loop b = new Loop();
        List<String> ran = new ArrayList<>();
        Handoff.batch(() -> {
            Handoff.execute(a, () -> ran.add("a1"));
            Handoff.execute(b, () -> ran.add("b1"));
            Handoff.execute(a, () -> ran.add("a2"));
            Handoff.batch(() -> Handoff.execute(a, () -> ran.add("a3"))); // nested: joins the outer batch
            assertThat(a.queued).as("nothing before the batch ends").isEmpty();
        });
        assertThat(a.queued).hasSize(1);
        assertThat(b.queued).hasSize(1);
        a.runQueued();
        b.runQueued();
        assertThat(ran).containsExactly("a1", "a2", "a3", "b1");
    }

    @Test
    void aFailingTaskDoesNotStopTheOthersNorDoesAStoppedLoopStopTheBatch() {
        Loop a = new Loop();
        Executor stopped = task -> {
            throw new RejectedExecutionException("stopped");
        };
        List<String> ran = new ArrayList<>();
        Handoff.batch(() -> {
            Handoff.execute(stopped, () -> ran.add("never"));
            Handoff.execute(a, () -> {
                throw new IllegalStateException("boom");
            });
            Handoff.execute(a, () -> ran.add("after"));
        });
        a.runQueued();
        assertThat(ran).containsExactly("after");
        Handoff.execute(a, () -> {});
        assertThat(a.queued).as("the batch is over on this thread").hasSize(1);
    }
}
