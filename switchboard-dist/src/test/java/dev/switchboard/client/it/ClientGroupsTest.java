package dev.switchboard.client.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.switchboard.client.GroupMember;
import dev.switchboard.client.GroupMessage;
import dev.switchboard.client.GroupStatus;
import dev.switchboard.client.InvalidRequestException;
import dev.switchboard.client.Message;
import dev.switchboard.client.NotFoundException;
import dev.switchboard.client.Subscription;
import dev.switchboard.client.Switchboard;
import dev.switchboard.config.GroupSettings;
import dev.switchboard.testing.TestServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The client's consumer groups against a real server: members by hand, and group subscriptions. */
@Timeout(60)
class ClientGroupsTest {
    private TestServer server;
    private Switchboard client;

    @BeforeEach
    void start() {
        server = TestServer.start(c -> c.withGroups(GroupSettings.DEFAULTS.withDelivery(Duration.ofSeconds(30), 3)));
        client = Switchboard.connect(server.url());
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    @Test
    void aMemberFetchesAcknowledgesReleasesAndReadsTheGroupsPosition() {
        for (int i = 1; i <= 5; i++) {
            client.publish("g.topic", "m" + i);
        }
        GroupMember a = client.groupMember("g.topic", "grp", "a");
        assertThatThrownBy(a::status).isInstanceOf(NotFoundException.class);
        List<GroupMessage> got = a.fetch(3, Duration.ZERO);
        assertThat(got).extracting(m -> m.message().text()).containsExactly("m1", "m2", "m3");
        assertThat(got).allMatch(m -> m.deliveries() == 1);
        assertThat(a.ack(1, 2)).containsExactly(1L, 2L);
        assertThat(a.release(3)).containsExactly(3L);
        assertThat(a.ack(3)).as("given back: no longer this member's").isEmpty();
        List<GroupMessage> again = client.groupMember("g.topic", "grp", "b").fetch(10, Duration.ofSeconds(5));
        assertThat(again).extracting(m -> m.message().offset()).containsExactly(3L, 4L, 5L);
        assertThat(again.get(0).deliveries()).isEqualTo(2);
        assertThat(a.status()).isEqualTo(new GroupStatus(3, 3, 3, 2));
        assertThatThrownBy(() -> client.groupMember("g.topic", "no/slash", "a"))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("invalid_group");
    }

    @Test
    void twoGroupSubscriptionsShareATopicEachMessageOnce() throws Exception {
        Map<Long, AtomicInteger> seen = new ConcurrentHashMap<>();
        Subscription one = client.subscribe("g.shared", "workers",
                m -> seen.computeIfAbsent(m.offset(), o -> new AtomicInteger()).incrementAndGet());
        Subscription two = client.subscribe("g.shared", "workers",
                m -> seen.computeIfAbsent(m.offset(), o -> new AtomicInteger()).incrementAndGet());
        for (int i = 1; i <= 200; i++) {
            client.publish("g.shared", "m" + i);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() == 200);
        await().atMost(Duration.ofSeconds(10)).until(() -> client.groupMember("g.shared", "workers", "x").status()
                .committed() == 201);
        assertThat(seen.values()).allMatch(n -> n.get() == 1);
        one.close();
        two.close();
        assertThat(one.closed()).succeedsWithin(Duration.ofSeconds(10));
        assertThat(two.closed()).succeedsWithin(Duration.ofSeconds(10));
    }

    @Test
    void aHandlerThatThrowsEndsItsSubscriptionAndItsMessageGoesToAnotherMember() {
        client.publish("g.fail", "poison");
        Subscription failing = client.subscribe("g.fail", "workers", m -> {
            throw new IllegalStateException("cannot handle " + m.offset());
        });
        assertThat(failing.closed()).failsWithin(Duration.ofSeconds(10));
        List<Message> handled = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (Subscription healthy = client.subscribe("g.fail", "workers", handled::add)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> handled.size() == 1);
            assertThat(handled.get(0).text()).isEqualTo("poison");
        }
    }
}
