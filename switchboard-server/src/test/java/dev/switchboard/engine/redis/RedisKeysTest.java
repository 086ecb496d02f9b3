package dev.switchboard.engine.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.cluster.SlotHash;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which keys share a hash slot: a topic's, its derived topics' and its records'; and that the names parse back. */
class RedisKeysTest {
    private final RedisKeys keys = new RedisKeys("sb:");

    @Test
    void aTopicItsDerivedTopicsAndItsRecordsShareItsSlot() {
        int slot = SlotHash.getSlot(keys.meta("chat"));
        List<String> together = List.of(keys.meta("_presence.chat"), keys.stream("chat.dead"),
                keys.channel("_presence.chat.dead"), keys.meta("chat.dead.dead"), keys.record("presence/chat/n1/c1"),
                keys.record("g/chat/workers"), keys.record("g/chat.dead/workers/7"),
                keys.records(RedisKeys.recordTag("g/chat/workers/7")));
        assertThat(together).allSatisfy(k -> assertThat(SlotHash.getSlot(k)).as(k).isEqualTo(slot));
        assertThat(keys.meta("chat")).isEqualTo("sb:{chat}:m");
        assertThat(keys.meta("chat.dead")).isEqualTo("sb:{chat}chat.dead:m");
    }

    @Test
    void recordsThatNameNoTopicShareTheirOwnTag() {
        assertThat(RedisKeys.recordTag("presence-nodes/abc")).isEqualTo(RedisKeys.OWN_RECORDS_TAG);
        assertThat(RedisKeys.recordTag("plain")).isEqualTo(RedisKeys.OWN_RECORDS_TAG);
        assertThat(RedisKeys.recordTag("x//y")).isEqualTo(RedisKeys.OWN_RECORDS_TAG);
        assertThat(keys.record("plain")).isEqualTo("sb:{:r}:r:plain");
    }

    @Test
    void namesThatOnlyLookDerivedKeepTheirOwnTag() {
        assertThat(RedisKeys.tag("_presence.")).isEqualTo("_presence.");
        assertThat(RedisKeys.tag(".dead")).isEqualTo(".dead");
        assertThat(RedisKeys.tag("deadline")).isEqualTo("deadline");
    }

    @Test
    void aChannelNamesItsTopic() {
        for (String topic : List.of("chat", "_presence.chat", "chat.dead", "_jobs.abcdefghijklmnopqrstuvwx")) {
            assertThat(keys.topicOf(keys.channel(topic))).isEqualTo(topic);
        }
    }
}
