package dev.switchboard.jobs;

import dev.switchboard.testing.TestServer;
import java.time.Duration;

/**
 * What every part of {@link JobApiTest} works with: the class's one server, a client for it, and the test's own queue.
 * The parts are interfaces on this one, so that one class per engine runs them all and starts its server once.
 */
interface JobApiFixture {
    /** How long a call must stay unanswered to count as held. */
    Duration HELD = Duration.ofMillis(300);

    /** The server of the test class, started before its first test. */
    TestServer server();

    /** Calls the jobs API of {@link #server()}. */
    JobHttp http();

    /** The test's own queue, named after the test. */
    String queue();
}
