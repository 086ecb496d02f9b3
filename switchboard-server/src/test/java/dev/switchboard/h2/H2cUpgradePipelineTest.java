package dev.switchboard.h2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.testing.HandlerFixture;
import dev.switchboard.testing.TestConnection;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What an h2c upgrade leaves in the connection's pipeline, on the server's own handlers without sockets: the HTTP/1.1
 * handlers and the upgrade's gate go at once, the wait for the client's preface goes when the preface comes.
 */
class H2cUpgradePipelineTest {
    private final HandlerFixture fixture = HandlerFixture.open();

    @AfterEach
    void close() {
        fixture.close();
    }

    @Test
    void theUpgradeLeavesOnlyHttp2HandlersOnceThePrefaceCame() {
        TestConnection connection = fixture.connect();

        connection.send(("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        assertThat(new String(connection.written(), StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 101");
        assertThat(connection.pipeline().names()).contains("h2c-preface")
                .doesNotContain("h2c-gate", "h2c-upgrade", "http", "router");

        connection.send(RawFrames.preface());
        connection.written();
        assertThat(connection.pipeline().names()).doesNotContain("h2c-preface").contains("h2-idle");
    }
}
