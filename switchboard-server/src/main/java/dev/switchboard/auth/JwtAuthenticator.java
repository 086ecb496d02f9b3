package dev.switchboard.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.ImmutableSecret;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import com.nimbusds.jwt.proc.ExpiredJWTException;
import dev.switchboard.config.AuthConfig;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import java.io.IOException;
import java.text.ParseException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Verifies signed JWTs with Nimbus JOSE+JWT ({@code --auth jwt}, docs/auth.md): the signature with the configured
 * key (HS256 secret, or RS256/ES256 public keys), {@code exp} and {@code nbf} with {@link #CLOCK_SKEW_SECONDS} of
 * allowance, {@code iss} and {@code aud} when configured; then the {@code sb} claim becomes the caller's
 * {@link Grants}. Nothing is remembered between calls: any server with the same key accepts the same token.
 */
public final class JwtAuthenticator implements Authenticator {
    public static final int CLOCK_SKEW_SECONDS = 30;
    /** The claim holding a caller's rights. */
    public static final String CLAIM = "sb";
    /** Expanded in a pattern to the token's subject: {@code user.{sub}}. */
    public static final String SUBJECT_PLACEHOLDER = "{sub}";
    private static final int MAX_TOKEN_CHARS = 8192;

    private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();

    private JwtAuthenticator(JWKSource<SecurityContext> keys, Set<JWSAlgorithm> algorithms, String issuer,
                             String audience) {
        processor.setJWSKeySelector(new JWSVerificationKeySelector<>(algorithms, keys));
        JWTClaimsSet.Builder exact = new JWTClaimsSet.Builder();
        if (issuer != null) {
            exact.issuer(issuer);
        }
        DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(
                audience == null ? null : Set.of(audience), exact.build(), Set.of("sub", "exp"), null);
        claims.setMaxClockSkew(CLOCK_SKEW_SECONDS);
        processor.setJWTClaimsSetVerifier(claims);
    }

    /** The authenticator {@code config} asks for; reads its key now, so a bad key stops the server from starting. */
    public static Authenticator create(AuthConfig config) throws IOException {
        if (!config.jwt()) {
            return Authenticator.NONE;
        }
        long sources = Stream.of(config.hs256SecretFile(), config.publicKeyFile(), config.jwksFile())
                .filter(Objects::nonNull).count();
        if (sources != 1) {
            throw new IllegalArgumentException("--auth jwt needs exactly one of --auth-hs256-secret-file, "
                    + "--auth-public-key and --auth-jwks-file");
        }
        if (config.hs256SecretFile() != null) {
            return new JwtAuthenticator(new ImmutableSecret<>(Hs256Secret.read(config.hs256SecretFile())),
                    Set.of(JWSAlgorithm.HS256), config.issuer(), config.audience());
        }
        boolean jwks = config.jwksFile() != null;
        return new JwtAuthenticator(new KeyFile(jwks ? config.jwksFile() : config.publicKeyFile(), jwks),
                Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256), config.issuer(), config.audience());
    }

    @Override
    public Grants verify(String token) {
        if (token == null || token.isEmpty()) {
            throw new ApiException(ErrorCode.UNAUTHORIZED, "this endpoint needs a token: 'Authorization: Bearer "
                    + "<jwt>', a 'switchboard_token' cookie or a 'token' query parameter");
        }
        if (token.length() > MAX_TOKEN_CHARS) {
            throw new ApiException(ErrorCode.UNAUTHORIZED, "the token is longer than " + MAX_TOKEN_CHARS + " chars");
        }
        JWTClaimsSet claims;
        try {
            claims = processor.process(token, null);
        } catch (ExpiredJWTException e) {
            throw new ApiException(ErrorCode.TOKEN_EXPIRED, "the token has expired; get a new one");
        } catch (ParseException | BadJOSEException | JOSEException | RuntimeException e) {
            throw new ApiException(ErrorCode.UNAUTHORIZED, "the token was refused: " + e.getMessage());
        }
        try {
            return grants(claims);
        } catch (ParseException | IllegalArgumentException e) {
            throw new ApiException(ErrorCode.UNAUTHORIZED, "the token's '" + CLAIM + "' claim is malformed: "
                    + e.getMessage());
        }
    }

    private static Grants grants(JWTClaimsSet claims) throws ParseException {
        String subject = claims.getSubject();
        Map<String, Object> sb = claims.getJSONObjectClaim(CLAIM);
        Instant validUntil = claims.getExpirationTime().toInstant().plusSeconds(CLOCK_SKEW_SECONDS);
        if (sb == null) {
            return new Grants(subject, validUntil, List.of(), List.of(), List.of(), List.of(), false);
        }
        Object admin = sb.getOrDefault("admin", false);
        if (!(admin instanceof Boolean)) {
            throw new IllegalArgumentException("'admin' must be true or false");
        }
        return new Grants(subject, validUntil, patterns(sb, "pub", subject), patterns(sb, "sub", subject),
                patterns(sb, "submit", subject), patterns(sb, "work", subject), (Boolean) admin);
    }

    private static List<NamePattern> patterns(Map<String, Object> sb, String field, String subject) {
        Object value = sb.get(field);
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list)) {
            throw new IllegalArgumentException("'" + field + "' must be a list of patterns");
        }
        List<NamePattern> patterns = new ArrayList<>(list.size());
        for (Object p : list) {
            if (!(p instanceof String s)) {
                throw new IllegalArgumentException("'" + field + "' must be a list of patterns");
            }
            patterns.add(NamePattern.parse(s.replace(SUBJECT_PLACEHOLDER, subject)));
        }
        return List.copyOf(patterns);
    }
}
