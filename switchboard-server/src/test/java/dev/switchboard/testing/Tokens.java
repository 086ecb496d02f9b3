package dev.switchboard.testing;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.switchboard.config.AuthConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Map;

/**
 * Signs test tokens as a real issuer would, with Nimbus: an HS256 secret written to a file the server reads, and
 * claims a test chooses (times, issuer, audience, the {@code sb} rights).
 */
public final class Tokens {
    public static final String ISSUER = "https://login.test";
    public static final String AUDIENCE = "switchboard-test";

    private final byte[] secret;
    private final Path secretFile;

    private Tokens(byte[] secret, Path secretFile) {
        this.secret = secret;
        this.secretFile = secretFile;
    }

    /** A fresh random 32-byte secret, written (with a trailing newline, as an editor would) into {@code dir}. */
    public static Tokens hs256(Path dir) {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        Path file = dir.resolve("hs256.secret");
        try {
            byte[] withNewline = Arrays.copyOf(secret, 33);
            withNewline[32] = '\n';
            Files.write(file, withNewline);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Tokens(secret, file);
    }

    /** For a test class sharing one secret: in a directory of its own, removed by {@link #deleteSecret()}. */
    public static Tokens hs256InTempDir() {
        try {
            return hs256(Files.createTempDirectory("switchboard-keys"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Removes the secret file and its directory. */
    public void deleteSecret() {
        try {
            Files.delete(secretFile);
            Files.delete(secretFile.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path secretFile() {
        return secretFile;
    }

    /** The server side: HS256 with this secret, issuer and audience required. */
    public AuthConfig config() {
        return AuthConfig.hs256(secretFile, ISSUER, AUDIENCE);
    }

    /** The claims of a valid token for {@code subject}: issued now, valid an hour, right issuer and audience. */
    public static JWTClaimsSet.Builder claims(String subject, Map<String, Object> sb) {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder().subject(subject).issuer(ISSUER).audience(AUDIENCE)
                .issueTime(Date.from(now)).notBeforeTime(Date.from(now.minusSeconds(5)))
                .expirationTime(Date.from(now.plus(Duration.ofHours(1)))).claim("sb", sb);
    }

    /** The {@code sb} claim: lists of patterns and admin. */
    public static Map<String, Object> rights(List<String> pub, List<String> sub, List<String> submit,
                                             List<String> work, boolean admin) {
        return Map.of("pub", pub, "sub", sub, "submit", submit, "work", work, "admin", admin);
    }

    public String sign(JWTClaimsSet.Builder claims) {
        return sign(claims, macSigner(secret), JWSAlgorithm.HS256);
    }

    public static String sign(JWTClaimsSet.Builder claims, JWSSigner signer, JWSAlgorithm algorithm) {
        return sign(claims, signer, new JWSHeader(algorithm));
    }

    public static String sign(JWTClaimsSet.Builder claims, JWSSigner signer, JWSHeader header) {
        SignedJWT jwt = new SignedJWT(header, claims.build());
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        return jwt.serialize();
    }

    /** A signer with another secret of the same length: a forged signature. */
    public static JWSSigner otherSecret() {
        byte[] other = new byte[32];
        new SecureRandom().nextBytes(other);
        return macSigner(other);
    }

    private static JWSSigner macSigner(byte[] key) {
        try {
            return new MACSigner(key);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }
}
