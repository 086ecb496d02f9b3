package dev.switchboard.config;

import java.nio.file.Path;

/**
 * What the listening port speaks: TLS when a certificate and key are given (ALPN offers {@code h2} and
 * {@code http/1.1}), in clear text otherwise (h2c by prior knowledge or by {@code Upgrade: h2c}); docs/tls.md.
 *
 * @param tlsCert                  PEM certificate chain, leaf first (null: clear text); re-read when it changes
 * @param tlsKey                   PEM private key of the leaf (PKCS#8, or PKCS#1 / SEC1); re-read when it changes
 * @param http2                    whether HTTP/2 is offered at all
 * @param maxStreamsPerConnection  SETTINGS_MAX_CONCURRENT_STREAMS of an HTTP/2 connection
 */
public record Protocols(Path tlsCert, Path tlsKey, boolean http2, int maxStreamsPerConnection) {
    public static final Protocols DEFAULTS = new Protocols(null, null, true, 100);

    public Protocols {
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new IllegalArgumentException("--tls-cert and --tls-key go together");
        }
        if (maxStreamsPerConnection < 1) {
            throw new IllegalArgumentException("--max-streams-per-connection must be at least 1");
        }
    }

    public boolean tls() {
        return tlsCert != null;
    }

    public Protocols withTls(Path cert, Path key) {
        return new Protocols(cert, key, http2, maxStreamsPerConnection);
    }

    public Protocols withHttp2(boolean on) {
        return new Protocols(tlsCert, tlsKey, on, maxStreamsPerConnection);
    }

    public Protocols withMaxStreamsPerConnection(int streams) {
        return new Protocols(tlsCert, tlsKey, http2, streams);
    }
}
