package dev.switchboard.stream;

import static dev.switchboard.stream.StreamFixtures.publish;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.config.IoMode;
import dev.switchboard.testing.TestServer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The push paths on every event-loop engine: their writes complete at different times (io_uring later, epoll and
 * NIO often before the write call returns), which once left a WebSocket subscribe-on-connect without its session.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IoEnginesTest {

    @ParameterizedTest
    @EnumSource(value = IoMode.class, names = {"IO_URING", "EPOLL", "NIO"})
    void webSocketSubscribeOnConnectGetsEveryMessageInOrder(IoMode io) {
        try (TestServer server = TestServer.start(config -> config.withIo(io))) {
            // a backlog larger than one coalesced write, so the subscriber is fed in several buffers
            for (int i = 0; i < 600; i++) {
                publish(server, "engines", "m" + i);
            }
            try (WsClient ws = WsClient.connect(server, "/v1/ws?subscribe=engines&from=earliest")) {
                assertThat(ws.next("subscribed").get("next").asLong()).isEqualTo(1);
                publish(server, "engines", "live");
                List<Long> offsets = new ArrayList<>();
                List<String> data = new ArrayList<>();
                for (int i = 0; i < 601; i++) {
                    JsonNode m = ws.next("message");
                    offsets.add(m.get("offset").asLong());
                    data.add(m.get("data").asText());
                }
                assertThat(offsets).isSorted().doesNotHaveDuplicates().hasSize(601).startsWith(1L).endsWith(601L);
                assertThat(data).startsWith("m0", "m1").endsWith("m599", "live");
            }
        }
    }
}
