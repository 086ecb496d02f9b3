package dev.switchboard.testing;

import dev.switchboard.config.ServerConfig;
import dev.switchboard.transport.tls.DevCertificates;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Comparator;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A development CA and localhost certificate in a temporary directory ({@code ca.pem}, {@code cert.pem},
 * {@code key.pem}), a server configuration that serves them, and clients that trust the CA.
 */
public final class TestTls implements AutoCloseable {
    private final Path dir;
    private DevCertificates certs;

    private TestTls(Path dir, DevCertificates certs) {
        this.dir = dir;
        this.certs = certs;
    }

    public static TestTls create() {
        try {
            TestTls tls = new TestTls(Files.createTempDirectory("switchboard-tls"), DevCertificates.create());
            tls.certs.write(tls.dir);
            return tls;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path dir() {
        return dir;
    }

    public Path ca() {
        return dir.resolve("ca.pem");
    }

    public Path cert() {
        return dir.resolve("cert.pem");
    }

    public Path key() {
        return dir.resolve("key.pem");
    }

    public DevCertificates certificates() {
        return certs;
    }

    /** The server serves this certificate on its port. */
    public UnaryOperator<ServerConfig> serving() {
        return c -> c.withProtocols(c.protocols().withTls(cert(), key()));
    }

    /** Replaces the files with a new CA's certificate and key, as a renewal would (the key last). */
    public DevCertificates renew() {
        try {
            certs = DevCertificates.create();
            certs.write(dir);
            return certs;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** TLS that trusts the current CA only. */
    public SSLContext trustingCa() {
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            store.setCertificateEntry("dev-ca", certs.ca());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            return ssl;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The JDK's client asking for HTTP/2 over TLS, trusting the current CA. */
    public HttpClient http2Client() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(trustingCa())
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    @Override
    public void close() {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp directory left behind is harmless
        }
    }
}
