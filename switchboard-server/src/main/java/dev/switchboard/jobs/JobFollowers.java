package dev.switchboard.jobs;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Who waits on this node for a job's next change (a submit with {@code ?wait=}, a long poll of the job): the commit
 * that changes the job hands it to them, so a waiter costs no watch of the job's topic and no second look. Any
 * thread adds and removes; the writer hands changes over and must not block, so each list is replaced, never
 * changed, and a waiter may remove itself while it is being handed a change.
 */
final class JobFollowers {
    private final ConcurrentHashMap<String, List<Consumer<Job>>> byJob = new ConcurrentHashMap<>();

    /** Follows the job until the returned handle is run. */
    Runnable add(String id, Consumer<Job> follower) {
        byJob.merge(id, List.of(follower), (before, added) -> {
            List<Consumer<Job>> both = new ArrayList<>(before);
            both.add(follower);
            return List.copyOf(both);
        });
        return () -> byJob.computeIfPresent(id, (k, before) -> {
            List<Consumer<Job>> left = new ArrayList<>(before);
            left.remove(follower);
            return left.isEmpty() ? null : List.copyOf(left);
        });
    }

    /** The job as a commit left it, or null once it is gone. */
    void changed(String id, Job now) {
        List<Consumer<Job>> followers = byJob.get(id);
        if (followers != null) {
            followers.forEach(f -> f.accept(now));
        }
    }

    /** Jobs with a follower, for tests: a follower must not outlive its wait. */
    int followed() {
        return byJob.size();
    }
}
