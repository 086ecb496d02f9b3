package dev.switchboard.groups;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.broker.Broker;
import dev.switchboard.config.GroupSettings;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.log.EmbeddedBroker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fetch stops adding messages past the byte limit (a poll answer's, --max-poll-bytes), always answering at least
 * one: what it leased beyond goes back to the group undelivered, for the next fetch.
 */
class GroupFetchBytesTest {
    @TempDir
    Path dir;

    /** The engine under test: the embedded one here, Redis in a subclass. */
    Broker open() {
        return EmbeddedBroker.open(ServerConfig.forTests(dir), new SimpleMeterRegistry());
    }

    @Test
    void aFetchAnswersUpToItsByteLimitAndGivesTheRestBackUndelivered() {
        try (Broker broker = open();
             GroupService groups = new GroupService(broker, GroupSettings.DEFAULTS, 100,
                     new SimpleMeterRegistry())) {
            for (String payload : List.of("a".repeat(60), "b".repeat(30), "c".repeat(60), "d".repeat(500))) {
                broker.append("t", "text/plain", payload.getBytes(StandardCharsets.UTF_8), null).join();
            }
            assertThat(offsets(groups.fetch("t", "g", "one", 10, Duration.ZERO).join())).containsExactly(1L, 2L);
            List<GroupService.Delivered> next = groups.fetch("t", "g", "two", 10, Duration.ZERO).join();
            assertThat(offsets(next)).containsExactly(3L);
            assertThat(next.getFirst().deliveries()).as("given back undelivered").isEqualTo(1);
            assertThat(offsets(groups.fetch("t", "g", "two", 10, Duration.ZERO).join()))
                    .as("a message over the limit alone still goes out").containsExactly(4L);
            GroupService.Status status = groups.status("t", "g").join();
            assertThat(status.inFlight()).isEqualTo(4);
            assertThat(status.committed()).isEqualTo(1);
        }
    }

    private static List<Long> offsets(List<GroupService.Delivered> delivered) {
        return delivered.stream().map(d -> d.message().offset()).toList();
    }
}
