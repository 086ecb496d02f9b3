package dev.switchboard.h2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.TestTls;
import dev.switchboard.transport.tls.DevCertificates;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/**
 * A renewed certificate written over the served files takes effect for new connections within seconds, while the
 * connections already open (an SSE stream, a client publishing all along) go on undisturbed; a pair that does not
 * read leaves the previous certificate in place.
 */
class CertificateReloadTest {

    @Test
    void aRenewedCertificateServesNewConnectionsWithoutDroppingOpenOnes() throws Exception {
        try (TestTls tls = TestTls.create(); TestServer server = TestServer.start(tls.serving());
             HttpClient before = tls.http2Client()) {
            URI topic = URI.create("https://localhost:" + server.port() + "/v1/topics/reload/messages");
            SSLContext trustsOldCa = tls.trustingCa();
            X509Certificate oldLeaf = tls.certificates().leaf();
            try (SseLines stream = SseLines.open(before, URI.create("https://localhost:" + server.port()
                    + "/v1/topics/reload/events"))) {
                AtomicInteger published = new AtomicInteger();
                AtomicReference<Throwable> failed = new AtomicReference<>();
                Thread traffic = Thread.ofPlatform().daemon().start(() -> {
                    try {
                        while (!Thread.currentThread().isInterrupted()) {
                            HttpResponse<String> r = before.send(HttpRequest.newBuilder(topic)
                                    .POST(HttpRequest.BodyPublishers.ofString("m" + published.get())).build(),
                                    HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() != 201) {
                                throw new AssertionError("publish answered " + r.statusCode() + ": " + r.body());
                            }
                            published.incrementAndGet();
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } catch (Throwable e) {
                        failed.set(e);
                    }
                });
                await().atMost(Duration.ofSeconds(10)).until(() -> published.get() >= 10);

                DevCertificates renewed = tls.renew();
                // until the reload, the server presents the certificate the new CA did not sign
                await().atMost(Duration.ofSeconds(10)).ignoreExceptionsInstanceOf(SSLHandshakeException.class)
                        .until(() -> renewed.leaf().getSerialNumber()
                        .equals(servedLeaf(tls.trustingCa(), server.port()).getSerialNumber()));
                assertThat(server.server().tls().orElseThrow().serving().serial())
                        .isEqualTo(renewed.leaf().getSerialNumber().toString(16));
                // a client that trusts only the old CA cannot make a new connection any more
                assertThatThrownBy(() -> servedLeaf(trustsOldCa, server.port()))
                        .isInstanceOf(SSLHandshakeException.class);
                assertThat(oldLeaf.getSerialNumber()).isNotEqualTo(renewed.leaf().getSerialNumber());

                int atRenewal = published.get();
                await().atMost(Duration.ofSeconds(10)).until(() -> published.get() >= atRenewal + 10);
                traffic.interrupt();
                traffic.join(10_000);
                assertThat(failed.get()).as("the connection opened before the renewal kept working").isNull();
                await().atMost(Duration.ofSeconds(10)).until(() -> stream.data.size() >= published.get());
                assertThat(stream.data).startsWith("m0", "m1", "m2");
            }
        }
    }

    @Test
    void aMismatchedPairIsNotLoadedAndThePreviousCertificateStays() throws Exception {
        try (TestTls tls = TestTls.create(); TestServer server = TestServer.start(tls.serving())) {
            X509Certificate served = tls.certificates().leaf();
            // only the certificate changes: its key is not the one in key.pem
            DevCertificates.create().writeCertificate(tls.cert());
            Files.setLastModifiedTime(tls.cert(), java.nio.file.attribute.FileTime.fromMillis(
                    System.currentTimeMillis() + 1000)); // a change the watcher sees even within one clock tick
            await().atMost(Duration.ofSeconds(10)).until(() -> server.server().tls().orElseThrow().reloadFailure()
                    .filter(why -> why.contains("does not belong to the certificate")).isPresent());
            assertThat(servedLeaf(tls.trustingCa(), server.port()).getSerialNumber())
                    .isEqualTo(served.getSerialNumber());
            // the key follows: the pair matches again and loads
            DevCertificates renewed = tls.renew();
            await().atMost(Duration.ofSeconds(10)).ignoreExceptionsInstanceOf(SSLHandshakeException.class)
                    .until(() -> renewed.leaf().getSerialNumber()
                    .equals(servedLeaf(tls.trustingCa(), server.port()).getSerialNumber()));
            assertThat(server.server().tls().orElseThrow().reloadFailure()).isEmpty();
        }
    }

    private static X509Certificate servedLeaf(SSLContext trusting, int port) throws Exception {
        try (SSLSocket s = (SSLSocket) trusting.getSocketFactory().createSocket("localhost", port)) {
            s.startHandshake();
            return (X509Certificate) s.getSession().getPeerCertificates()[0];
        }
    }
}
