package dev.switchboard.groups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.testing.PrometheusText;
import dev.switchboard.testing.TestServer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A group's {@code switchboard_group_*} series, read from {@code /metrics} as Prometheus would scrape them. */
class GroupMetricsTest {
    private TestServer server;
    private GroupHttp http;

    @BeforeEach
    void start() {
        // a message given back after its second delivery goes to the dead-letter topic
        server = TestServer.start(c -> c.withGroups(c.groups().withDelivery(Duration.ofSeconds(30), 2)));
        http = new GroupHttp(server.url());
    }

    @AfterEach
    void stop() {
        http.close();
        server.close();
    }

    private PrometheusText scrape() {
        var r = server.get("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        return PrometheusText.parse(r.body());
    }

    private double value(String name) {
        return scrape().value(name, "topic", "tasks", "group", "g");
    }

    @Test
    void gaugesAndCountersFollowWhatTheGroupDoes() {
        http.publish("tasks", 1, 5);
        assertThat(GroupHttp.offsets(http.fetch("tasks", "g", "m1", 3, "0s"))).containsExactly(1L, 2L, 3L);
        await().atMost(Duration.ofSeconds(10)).until(() -> value("switchboard_group_in_flight") == 3);
        PrometheusText p = scrape();
        assertThat(p.type("switchboard_group_lag")).isEqualTo("gauge");
        assertThat(p.type("switchboard_group_delivered_total")).isEqualTo("counter");
        assertThat(p.value("switchboard_group_lag", "topic", "tasks", "group", "g")).isEqualTo(5);
        assertThat(p.value("switchboard_group_members", "topic", "tasks", "group", "g")).isEqualTo(1);
        assertThat(p.value("switchboard_group_delivered_total", "topic", "tasks", "group", "g")).isEqualTo(3);

        assertThat(http.ack("tasks", "g", "m1", List.of(1L, 2L))).containsExactly(1L, 2L);
        await().atMost(Duration.ofSeconds(10)).until(() -> value("switchboard_group_lag") == 3);
        assertThat(value("switchboard_group_acked_total")).isEqualTo(2);
        assertThat(value("switchboard_group_in_flight")).isEqualTo(1);

        // offset 3 given back twice: delivered again once, then moved to tasks.dead
        release("m1", 3);
        assertThat(GroupHttp.offsets(http.fetch("tasks", "g", "m2", 1, "0s"))).containsExactly(3L);
        assertThat(value("switchboard_group_redelivered_total")).isEqualTo(1);
        assertThat(value("switchboard_group_delivered_total")).isEqualTo(4);
        release("m2", 3);
        await().atMost(Duration.ofSeconds(10)).until(() -> value("switchboard_group_dead_lettered_total") == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> value("switchboard_group_members") == 2
                && value("switchboard_group_lag") == 2 && value("switchboard_group_in_flight") == 0);
    }

    @Test
    void aDeletedTopicsGroupsLeaveNoSeries() {
        http.publish("tasks", 1, 1);
        http.fetch("tasks", "g", "m1", 1, "0s");
        await().atMost(Duration.ofSeconds(10)).until(() -> scrape().has("switchboard_group_lag"));
        assertThat(http.send("DELETE", "/v1/topics/tasks", null).status()).isEqualTo(204);
        await().atMost(Duration.ofSeconds(10)).until(() -> !scrape().has("switchboard_group_lag")
                && !scrape().has("switchboard_group_delivered_total"));
    }

    private void release(String member, long offset) {
        GroupHttp.Response r = http.send("POST", "/v1/topics/tasks/groups/g/release?member=" + member,
                "{\"offsets\":[" + offset + "]}");
        assertThat(r.status()).as("%s", r.body()).isEqualTo(200);
        assertThat(r.body().get("released").toString()).isEqualTo("[" + offset + "]");
    }
}
