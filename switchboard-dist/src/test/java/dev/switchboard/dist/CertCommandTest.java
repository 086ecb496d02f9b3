package dev.switchboard.dist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.transport.tls.ServerCertificate;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code switchboard cert dev} writes a CA and a localhost certificate the server serves; {@code serve} checks them. */
class CertCommandTest {
    @TempDir
    Path dir;

    private static X509Certificate certificate(Path file) throws Exception {
        try (InputStream in = Files.newInputStream(file)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    @Test
    void writesACaAndALocalhostCertificateSignedByIt() throws Exception {
        Path out = dir.resolve("certs");
        CommandRun r = CommandRun.run("cert", "dev", "--out", out.toString(), "--days", "30");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("ca.pem").contains("cert.pem").contains("key.pem");

        X509Certificate ca = certificate(out.resolve("ca.pem"));
        X509Certificate leaf = certificate(out.resolve("cert.pem"));
        assertThat(ca.getBasicConstraints()).as("a CA").isGreaterThanOrEqualTo(0);
        assertThat(leaf.getBasicConstraints()).as("not a CA").isEqualTo(-1);
        leaf.verify(ca.getPublicKey()); // signed by the CA (throws otherwise)
        assertThat(leaf.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).toList())
                .containsExactlyInAnyOrder("localhost", "127.0.0.1", "0:0:0:0:0:0:0:1");
        assertThat(leaf.getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.1"); // serverAuth
        assertThat(leaf.getNotAfter().toInstant()).isBetween(Instant.now().plusSeconds(29 * 86400),
                Instant.now().plusSeconds(31 * 86400));
        assertThat(Files.getPosixFilePermissions(out.resolve("key.pem")))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
        // what the server checks before it serves them: readable, valid now, the key the certificate's
        ServerCertificate served = ServerCertificate.read(out.resolve("cert.pem"), out.resolve("key.pem"),
                Instant.now());
        assertThat(served.leaf()).isEqualTo(leaf);
    }

    @Test
    void keepsExistingCertificatesUnlessForced() throws Exception {
        Path out = dir.resolve("certs");
        assertThat(CommandRun.run("cert", "dev", "--out", out.toString()).exit()).isZero();
        byte[] ca = Files.readAllBytes(out.resolve("ca.pem"));
        CommandRun again = CommandRun.run("cert", "dev", "--out", out.toString());
        assertThat(again.exit()).isEqualTo(2);
        assertThat(again.err()).contains("--force");
        assertThat(Files.readAllBytes(out.resolve("ca.pem"))).isEqualTo(ca);
        assertThat(CommandRun.run("cert", "dev", "--out", out.toString(), "--force").exit()).isZero();
        assertThat(Files.readAllBytes(out.resolve("ca.pem"))).isNotEqualTo(ca);
    }

    @Test
    void serveRefusesAMissingKeyWithoutTouchingTheDataDirectory() throws Exception {
        Path out = dir.resolve("certs");
        assertThat(CommandRun.run("cert", "dev", "--out", out.toString()).exit()).isZero();
        CommandRun r = CommandRun.run("serve", "--port", "0", "--data-dir", dir.resolve("data").toString(), "--tls-cert",
                out.resolve("cert.pem").toString(), "--tls-key", out.resolve("nokey.pem").toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("nokey.pem does not exist");
        assertThat(dir.resolve("data")).doesNotExist();
    }

    @Test
    void tlsOptionsGoTogetherAndHttp2IsOnOrOff() {
        for (List<String> args : List.of(List.of("--tls-cert", "cert.pem"), List.of("--http2", "maybe"),
                List.of("--max-streams-per-connection", "0"))) {
            List<String> all = new java.util.ArrayList<>(List.of("serve", "--port", "0", "--data-dir",
                    dir.resolve("data").toString()));
            all.addAll(args);
            CommandRun r = CommandRun.run(all.toArray(String[]::new));
            assertThat(r.exit()).as(args.toString()).isEqualTo(2);
            assertThat(r.err()).containsAnyOf("--tls-key", "--http2 must be on or off", "at least 1");
        }
        assertThat(dir.resolve("data")).doesNotExist();
    }
}
