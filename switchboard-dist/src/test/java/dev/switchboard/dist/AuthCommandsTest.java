package dev.switchboard.dist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.auth.Authenticator;
import dev.switchboard.auth.Grants;
import dev.switchboard.auth.JwtAuthenticator;
import dev.switchboard.config.AuthConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code switchboard token} mints what the server accepts; {@code serve} refuses to run open on a public address. */
class AuthCommandsTest {
    @TempDir
    Path dir;

    @Test
    void mintedTokenCarriesTheRightsAskedFor() throws Exception {
        Path secret = dir.resolve("secret");
        Files.writeString(secret, "0123456789abcdef0123456789abcdef\n");
        CommandRun r = CommandRun.run("token", "--secret-file", secret.toString(), "--subject", "alice", "--publish",
                "chat.>",
                "--subscribe", "chat.>", "--subscribe", "user.{sub}", "--submit", "video", "--work", "video",
                "--ttl", "2h", "--issuer", "me", "--audience", "sb");
        assertThat(r.exit()).as(r.err()).isZero();
        Authenticator server = JwtAuthenticator.create(AuthConfig.hs256(secret, "me", "sb"));
        Grants g = server.verify(r.out().trim());
        assertThat(g.subject()).isEqualTo("alice");
        assertThat(g.mayPublish("chat.room")).isTrue();
        assertThat(g.maySubscribe("user.alice")).isTrue();
        assertThat(g.maySubscribe("user.bob")).isFalse();
        assertThat(g.maySubmit("video")).isTrue();
        assertThat(g.mayWork("video")).isTrue();
        assertThat(g.admin()).isFalse();
        assertThat(g.validUntil()).isAfter(Instant.now().plus(Duration.ofMinutes(119)));
    }

    @Test
    void tooShortSecretIsRefused() throws Exception {
        Path secret = dir.resolve("short");
        Files.writeString(secret, "short\n");
        CommandRun r = CommandRun.run("token", "--secret-file", secret.toString(), "--subject", "a");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("at least 32");
    }

    @Test
    void openServerOnAPublicAddressRefusesToStart() {
        CommandRun r = CommandRun.run("serve", "--bind", "0.0.0.0", "--port", "0", "--data-dir", dir.resolve("data").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--auth none").contains("--insecure-no-auth");
        assertThat(dir.resolve("data")).doesNotExist();
    }

    @Test
    void jwtWithoutAKeyRefusesToStart() {
        CommandRun r = CommandRun.run("serve", "--auth", "jwt", "--port", "0", "--data-dir", dir.resolve("data").toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("exactly one of --auth-hs256-secret-file");
        assertThat(dir.resolve("data")).doesNotExist();
    }
}
