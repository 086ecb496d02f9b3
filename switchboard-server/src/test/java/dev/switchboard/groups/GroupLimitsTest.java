package dev.switchboard.groups;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.GroupSettings;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.testing.TestServer;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Bad input and limits of the group endpoints: the contract's error shapes, and nothing changed. */
class GroupLimitsTest {
    private TestServer server;
    private GroupHttp http;

    /** The engine's setting of the server config: the embedded engine here, Redis in a subclass. */
    ServerConfig onEngine(ServerConfig config) {
        return config;
    }

    @BeforeEach
    void start() {
        GroupSettings d = GroupSettings.DEFAULTS;
        server = TestServer.start(c -> onEngine(c).withGroups(new GroupSettings(d.ackTimeout(), d.maxDeliveries(), 2, 5,
                d.maxFetch(), 3, d.maxPending())));
        http = new GroupHttp(server.url());
        http.publish("t", 1, 20);
    }

    @AfterEach
    void stop() {
        http.close();
        server.close();
    }

    private void assertError(GroupHttp.Response r, int status, String code) {
        assertThat(r.status()).as("%s", r.body()).isEqualTo(status);
        assertThat(r.body().path("error").path("code").asText()).isEqualTo(code);
        assertThat(r.body().path("error").path("message").asText()).isNotBlank();
    }

    @Test
    void malformedCallsAreRefusedAndChangeNothing() {
        assertError(http.send("POST", "/v1/topics/t/groups/g/fetch", null), 400, "invalid_group"); // no member
        assertError(http.send("POST", "/v1/topics/t/groups/g%20x/fetch?member=a", null), 400, "invalid_group");
        assertError(http.send("POST", "/v1/topics/t/groups/g/fetch?member=a&max=0", null), 400, "invalid_limit");
        assertError(http.send("POST", "/v1/topics/t/groups/g/fetch?member=a&max=1001", null), 400, "invalid_limit");
        assertError(http.send("POST", "/v1/topics/t/groups/g/fetch?member=a&max=x", null), 400, "invalid_limit");
        assertError(http.send("POST", "/v1/topics/t/groups/g/fetch?member=a&wait=6m", null), 400, "invalid_duration");
        assertError(http.send("POST", "/v1/topics/b@d/groups/g/fetch?member=a", null), 400, "invalid_topic");
        assertError(http.send("GET", "/v1/topics/t/groups/g", null), 404, "group_not_found");
        assertError(http.send("POST", "/v1/topics/nothing.here/groups/g/fetch?member=a", null), 404,
                "topic_not_found");
        assertError(http.send("GET", "/v1/topics/nothing.here/groups/g", null), 404, "group_not_found");
        assertError(http.send("GET", "/v1/topics/t/groups/g/fetch", null), 405, "method_not_allowed");
        assertError(http.send("POST", "/v1/topics/t/groups/g/nope", null), 404, "not_found");

        http.fetch("t", "g", "a", 2, "0s");
        assertError(http.send("POST", "/v1/topics/t/groups/g/ack?member=a", "{\"offsets\":1}"), 400, "invalid_json");
        assertError(http.send("POST", "/v1/topics/t/groups/g/ack?member=a", "[1]"), 400, "invalid_json");
        assertError(http.send("POST", "/v1/topics/t/groups/g/ack?member=a", "{\"offsets\":[]}"), 400, "invalid_json");
        assertError(http.send("POST", "/v1/topics/t/groups/g/ack?member=a", "{\"offsets\":[1.5]}"), 400,
                "invalid_json");
        assertError(http.send("POST", "/v1/topics/t/groups/g/ack?member=a", "{\"offsets\":[0]}"), 400,
                "invalid_json");
        assertError(http.send("POST", "/v1/topics/t/groups/g/ack?member=a", "{\"offsets\":[1,2,3,4]}"), 429,
                "limit_exceeded");
        assertThat(http.status("t", "g").get("inFlight").asInt()).isEqualTo(2);
        assertThat(http.status("t", "g").get("committed").asLong()).isEqualTo(1);
        // an ack of offsets the member does not hold is answered, and changes nothing
        GroupHttp.Response stale = http.send("POST", "/v1/topics/t/groups/g/ack?member=b", "{\"offsets\":[1,2,9]}");
        assertThat(stale.status()).isEqualTo(200);
        assertThat(stale.body().get("stale").toString()).isEqualTo("[1,2,9]");
        assertThat(http.status("t", "g").get("inFlight").asInt()).isEqualTo(2);
    }

    @Test
    void groupsPerTopicAndInFlightPerMemberAreLimited() {
        http.fetch("t", "g1", "a", 1, "0s");
        http.fetch("t", "g2", "a", 1, "0s");
        assertError(http.send("POST", "/v1/topics/t/groups/g3/fetch?member=a", null), 429, "limit_exceeded");
        assertError(http.send("GET", "/v1/topics/t/groups/g3", null), 404, "group_not_found");

        assertThat(http.fetch("t", "g1", "a", 100, "0s")).as("up to the member's room of 5").hasSize(4);
        assertError(http.send("POST", "/v1/topics/t/groups/g1/fetch?member=a", null), 429, "limit_exceeded");
        assertThat(http.fetch("t", "g1", "b", 1, "0s")).hasSize(1);
        http.ack("t", "g1", "a", List.of(1L));
        assertThat(GroupHttp.offsets(http.fetch("t", "g1", "a", 100, "0s"))).containsExactly(7L);
    }
}
