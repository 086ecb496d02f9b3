package dev.switchboard.auth;

import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.util.Base64;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verification keys read from a file, a PEM public key or a JWKS, and read again when the file changes (key
 * rotation without a restart). The file's modification time is looked at no more than once a second; a file that no
 * longer parses leaves the keys read last in place, with a warning.
 */
final class KeyFile implements JWKSource<SecurityContext> {
    private static final Logger log = LoggerFactory.getLogger(KeyFile.class);
    private static final long CHECK_EVERY_NANOS = 1_000_000_000L;

    private final Path path;
    private final boolean jwks;
    private volatile JWKSet keys;
    private volatile FileTime readAt;
    private volatile long checkedAt;

    /** Reads the file now: a server does not start with keys it cannot read. */
    KeyFile(Path path, boolean jwks) throws IOException {
        this.path = path;
        this.jwks = jwks;
        this.readAt = Files.getLastModifiedTime(path);
        this.keys = parse(Files.readString(path, StandardCharsets.US_ASCII));
        this.checkedAt = System.nanoTime();
    }

    @Override
    public List<JWK> get(JWKSelector selector, SecurityContext context) throws KeySourceException {
        return selector.select(current());
    }

    private JWKSet current() {
        long now = System.nanoTime();
        if (now - checkedAt >= CHECK_EVERY_NANOS) {
            reloadIfChanged(now);
        }
        return keys;
    }

    private synchronized void reloadIfChanged(long now) {
        if (now - checkedAt < CHECK_EVERY_NANOS) {
            return; // another thread just looked
        }
        checkedAt = now;
        try {
            FileTime modified = Files.getLastModifiedTime(path);
            if (!modified.equals(readAt)) {
                keys = parse(Files.readString(path, StandardCharsets.US_ASCII));
                readAt = modified;
                log.info("verification keys re-read from {}", path);
            }
        } catch (IOException e) {
            log.warn("cannot re-read verification keys from {}; keeping the previous ones: {}", path, e.getMessage());
        }
    }

    private JWKSet parse(String text) throws IOException {
        try {
            return jwks ? JWKSet.parse(text) : new JWKSet(fromPem(text));
        } catch (ParseException | GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException(path + " holds no usable " + (jwks ? "JWKS" : "PEM public key") + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * A {@code -----BEGIN PUBLIC KEY-----} block (X.509 SubjectPublicKeyInfo). Nimbus parses PEM only with
     * BouncyCastle on the class path; the JDK's KeyFactory reads this one form without that dependency.
     */
    private static JWK fromPem(String pem) throws GeneralSecurityException {
        int begin = pem.indexOf("-----BEGIN PUBLIC KEY-----");
        int end = pem.indexOf("-----END PUBLIC KEY-----");
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("expected a -----BEGIN PUBLIC KEY----- block");
        }
        byte[] der = Base64.getMimeDecoder().decode(pem.substring(begin + 26, end));
        X509EncodedKeySpec spec = new X509EncodedKeySpec(der);
        PublicKey key;
        try {
            key = KeyFactory.getInstance("RSA").generatePublic(spec);
        } catch (GeneralSecurityException notRsa) {
            key = KeyFactory.getInstance("EC").generatePublic(spec);
        }
        if (key instanceof RSAPublicKey rsa) {
            return new RSAKey.Builder(rsa).build();
        }
        ECPublicKey ec = (ECPublicKey) key;
        return new ECKey.Builder(Curve.forECParameterSpec(ec.getParams()), ec).build();
    }
}
