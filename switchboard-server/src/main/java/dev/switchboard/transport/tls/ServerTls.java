package dev.switchboard.transport.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's TLS: OpenSSL (BoringSSL, through netty-tcnative) when it loads, the JDK's TLS otherwise; ALPN offers
 * {@code h2} (when HTTP/2 is on) and {@code http/1.1}. The certificate and key files are looked at once a second by a
 * thread of its own, never an event loop; when they change, a new context is built and new connections get it, while
 * open ones keep the session they have. A change that does not read (a half-written pair, an expired certificate)
 * leaves the previous context in place with a warning.
 */
public final class ServerTls implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServerTls.class);
    static final long CHECK_EVERY_MILLIS = 1000;

    private final Path certFile;
    private final Path keyFile;
    private final boolean http2;
    private final SslProvider provider;
    private final ScheduledExecutorService watcher = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("switchboard-tls-watch").daemon(true).factory());
    private volatile SslContext context;
    private volatile X509Summary serving;
    /** Why the files changed last were not loaded; null once a change loaded. */
    private volatile String reloadFailure;
    /** Modification times and sizes of the files when last read (successfully or not). */
    private List<Object> seen;

    /** What the server presents, for the log and the tests. */
    public record X509Summary(String subject, Instant notAfter, String serial) {
    }

    private ServerTls(Path certFile, Path keyFile, boolean http2) {
        this.certFile = certFile;
        this.keyFile = keyFile;
        this.http2 = http2;
        this.provider = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    /** Reads and checks the files now: a server does not start with a certificate it cannot serve. */
    public static ServerTls open(Path certFile, Path keyFile, boolean http2) throws IOException {
        ServerTls tls = new ServerTls(certFile, keyFile, http2);
        try {
            tls.seen = tls.stamp(); // before reading, so that a change made meanwhile is read again
        } catch (IOException e) {
            // the files cannot be read: load() says which and why
        }
        tls.load();
        log.info("TLS on {} ({}), certificate {} valid until {}", tls.providerName(),
                OpenSsl.isAvailable() ? OpenSsl.versionString() : System.getProperty("java.version"),
                tls.serving.subject(), tls.serving.notAfter());
        tls.watcher.scheduleWithFixedDelay(tls::reloadIfChanged, CHECK_EVERY_MILLIS, CHECK_EVERY_MILLIS,
                TimeUnit.MILLISECONDS);
        return tls;
    }

    /** {@code openssl} or {@code jdk}: which TLS implementation serves. */
    public String providerName() {
        return provider == SslProvider.OPENSSL ? "openssl" : "jdk";
    }

    public X509Summary serving() {
        return serving;
    }

    /** Why the last change of the files was not loaded (the previous certificate serves on), if it was not. */
    public java.util.Optional<String> reloadFailure() {
        return java.util.Optional.ofNullable(reloadFailure);
    }

    /** A TLS handler with the newest context, for a new connection. */
    public SslHandler newHandler(ByteBufAllocator alloc) {
        return context.newHandler(alloc);
    }

    private void load() throws IOException {
        ServerCertificate cert = ServerCertificate.read(certFile, keyFile, Instant.now());
        List<String> alpn = http2 ? List.of(ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1)
                : List.of(ApplicationProtocolNames.HTTP_1_1);
        context = SslContextBuilder.forServer(cert.key(), cert.chain())
                .sslProvider(provider)
                .protocols("TLSv1.3", "TLSv1.2")
                // RFC 9113 9.2.2 bans the older TLS 1.2 suites on HTTP/2; Netty's list is the allowed ones
                .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, alpn))
                .build();
        serving = new X509Summary(cert.leaf().getSubjectX500Principal().getName(),
                cert.leaf().getNotAfter().toInstant(), cert.leaf().getSerialNumber().toString(16));
    }

    private List<Object> stamp() throws IOException {
        return List.of(Files.getLastModifiedTime(certFile), Files.size(certFile), Files.getLastModifiedTime(keyFile),
                Files.size(keyFile));
    }

    private void reloadIfChanged() {
        try {
            List<Object> now = stamp();
            if (now.equals(seen)) {
                return;
            }
            seen = now; // a pair that fails is warned about once, and read again when either file changes again
            load();
            reloadFailure = null;
            log.info("TLS certificate reloaded from {}: {} valid until {}", certFile, serving.subject(),
                    serving.notAfter());
        } catch (IOException | RuntimeException e) {
            reloadFailure = e.getMessage();
            log.warn("TLS certificate in {} not reloaded, serving the previous one: {}", certFile, e.getMessage());
        }
    }

    @Override
    public void close() {
        watcher.shutdownNow();
    }
}
