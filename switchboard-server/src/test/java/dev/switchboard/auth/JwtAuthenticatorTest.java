package dev.switchboard.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.PlainJWT;
import dev.switchboard.config.AuthConfig;
import dev.switchboard.testing.Tokens;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Token verification with real keys and signatures: HS256 secret file, RS256 PEM key, ES256 JWKS with rotation. */
class JwtAuthenticatorTest {
    private static final Map<String, Object> CHAT = Tokens.rights(List.of("chat.>"), List.of("chat.>", "user.{sub}"),
            List.of("video"), List.of(), false);

    @TempDir
    Path dir;

    private Authenticator hs256(Tokens tokens) throws IOException {
        return JwtAuthenticator.create(tokens.config());
    }

    private static ErrorCode refusal(Authenticator auth, String token) {
        try {
            auth.verify(token);
        } catch (ApiException e) {
            return e.code();
        }
        throw new AssertionError("token accepted: " + token);
    }

    @Test
    void validTokenBecomesGrantsWithSubjectExpanded() throws IOException {
        Tokens tokens = Tokens.hs256(dir);
        Grants g = hs256(tokens).verify(tokens.sign(Tokens.claims("alice", CHAT)));
        assertThat(g.subject()).isEqualTo("alice");
        assertThat(g.mayPublish("chat.room")).isTrue();
        assertThat(g.mayPublish("user.alice")).isFalse();
        assertThat(g.maySubscribe("user.alice")).isTrue();
        assertThat(g.maySubscribe("user.bob")).isFalse();
        assertThat(g.maySubmit("video")).isTrue();
        assertThat(g.mayWork("video")).isFalse();
        assertThat(g.admin()).isFalse();
        assertThat(g.validUntil()).isAfter(Instant.now().plus(Duration.ofMinutes(59)));
    }

    @Test
    void timesIssuerAudienceAndSignatureAreChecked() throws IOException {
        Tokens tokens = Tokens.hs256(dir);
        Authenticator auth = hs256(tokens);
        Instant now = Instant.now();
        assertThat(refusal(auth, tokens.sign(Tokens.claims("a", CHAT).expirationTime(Date.from(now.minusSeconds(300))))))
                .isEqualTo(ErrorCode.TOKEN_EXPIRED);
        assertThat(refusal(auth, tokens.sign(Tokens.claims("a", CHAT).notBeforeTime(Date.from(now.plusSeconds(300))))))
                .isEqualTo(ErrorCode.UNAUTHORIZED);
        assertThat(refusal(auth, tokens.sign(Tokens.claims("a", CHAT).issuer("https://evil.test"))))
                .isEqualTo(ErrorCode.UNAUTHORIZED);
        assertThat(refusal(auth, tokens.sign(Tokens.claims("a", CHAT).audience("other-service"))))
                .isEqualTo(ErrorCode.UNAUTHORIZED);
        assertThat(refusal(auth, tokens.sign(Tokens.claims("a", CHAT).expirationTime(null))))
                .as("a token without exp would be valid for ever").isEqualTo(ErrorCode.UNAUTHORIZED);
        assertThat(refusal(auth, Tokens.sign(Tokens.claims("a", CHAT), Tokens.otherSecret(), JWSAlgorithm.HS256)))
                .isEqualTo(ErrorCode.UNAUTHORIZED);
        assertThat(refusal(auth, new PlainJWT(Tokens.claims("a", CHAT).build()).serialize()))
                .as("alg none").isEqualTo(ErrorCode.UNAUTHORIZED);
        assertThat(refusal(auth, null)).isEqualTo(ErrorCode.UNAUTHORIZED);
        // Within the clock-skew allowance a just-expired token still passes, and expires for good at exp + skew.
        Grants late = auth.verify(tokens.sign(Tokens.claims("a", CHAT).expirationTime(Date.from(now.minusSeconds(10)))));
        assertThat(late.validUntil()).isBefore(now.plusSeconds(JwtAuthenticator.CLOCK_SKEW_SECONDS));
    }

    @Test
    void garbageIsRefusedAsUnauthorizedNeverAsAFault() throws IOException {
        Tokens tokens = Tokens.hs256(dir);
        Authenticator auth = hs256(tokens);
        String valid = tokens.sign(Tokens.claims("a", CHAT));
        for (String bad : new String[] {"", "x", "a.b.c", "..", valid + "x", valid.substring(0, valid.length() - 2),
                "eyJhbGciOiJIUzI1NiJ9.%%%.", valid.replace('.', '!'), "a".repeat(20_000)}) {
            assertThat(refusal(auth, bad)).as(bad).isEqualTo(ErrorCode.UNAUTHORIZED);
        }
    }

    @Test
    void malformedRightsClaimIsRefused() throws IOException {
        Tokens tokens = Tokens.hs256(dir);
        Authenticator auth = hs256(tokens);
        for (Map<String, Object> sb : List.<Map<String, Object>>of(Map.of("pub", "chat.>"), Map.of("pub", List.of(1)),
                Map.of("sub", List.of("a..b")), Map.of("admin", "yes"))) {
            assertThat(refusal(auth, tokens.sign(Tokens.claims("a", sb)))).as(sb.toString())
                    .isEqualTo(ErrorCode.UNAUTHORIZED);
        }
        Grants none = auth.verify(tokens.sign(Tokens.claims("a", Map.of()).claim("sb", null)));
        assertThat(none.mayPublish("x")).isFalse();
        assertThat(none.maySubscribe("x")).isFalse();
    }

    @Test
    void secretFileNeedsThirtyTwoBytesAfterOneNewline() throws IOException {
        Path shortSecret = dir.resolve("short");
        Files.write(shortSecret, ("x".repeat(31) + "\n").getBytes(StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> JwtAuthenticator.create(AuthConfig.hs256(shortSecret, null, null)))
                .isInstanceOf(IOException.class).hasMessageContaining("at least 32");
        Path exact = dir.resolve("exact");
        Files.write(exact, "y".repeat(32).getBytes(StandardCharsets.US_ASCII));
        assertThat(Hs256Secret.read(exact)).hasSize(32);
    }

    @Test
    void rs256WithPemPublicKey() throws Exception {
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        KeyPair pair = rsa.generateKeyPair();
        Path pem = dir.resolve("key.pem");
        Files.writeString(pem, "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(pair.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n");
        Authenticator auth = JwtAuthenticator.create(new AuthConfig(true, null, pem, null, Tokens.ISSUER, null));
        String token = Tokens.sign(Tokens.claims("svc", CHAT), new RSASSASigner(pair.getPrivate()), JWSAlgorithm.RS256);
        assertThat(auth.verify(token).subject()).isEqualTo("svc");
        KeyPair other = rsa.generateKeyPair();
        assertThat(refusal(auth, Tokens.sign(Tokens.claims("svc", CHAT), new RSASSASigner(other.getPrivate()),
                JWSAlgorithm.RS256))).isEqualTo(ErrorCode.UNAUTHORIZED);
    }

    @Test
    void es256JwksIsReadAgainWhenTheFileChanges() throws Exception {
        ECKey first = new ECKeyGenerator(Curve.P_256).keyID("one").generate();
        ECKey second = new ECKeyGenerator(Curve.P_256).keyID("two").generate();
        Path jwks = dir.resolve("keys.json");
        Files.writeString(jwks, new JWKSet(first.toPublicJWK()).toString());
        Authenticator auth = JwtAuthenticator.create(new AuthConfig(true, null, null, jwks, null, null));
        String byFirst = Tokens.sign(Tokens.claims("a", CHAT), new ECDSASigner(first),
                new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("one").build());
        String bySecond = Tokens.sign(Tokens.claims("a", CHAT), new ECDSASigner(second),
                new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("two").build());
        assertThat(auth.verify(byFirst).subject()).isEqualTo("a");
        assertThat(refusal(auth, bySecond)).isEqualTo(ErrorCode.UNAUTHORIZED);

        Files.writeString(jwks, new JWKSet(second.toPublicJWK()).toString());
        Files.setLastModifiedTime(jwks, FileTime.from(Instant.now().plusSeconds(5)));
        await().atMost(Duration.ofSeconds(10)).until(() -> accepts(auth, bySecond));
        assertThat(refusal(auth, byFirst)).as("the rotated-out key").isEqualTo(ErrorCode.UNAUTHORIZED);

        Files.writeString(jwks, "not json");
        Files.setLastModifiedTime(jwks, FileTime.from(Instant.now().plusSeconds(10)));
        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5)).until(() -> accepts(auth, bySecond));
    }

    private static boolean accepts(Authenticator auth, String token) {
        try {
            auth.verify(token);
            return true;
        } catch (ApiException e) {
            return false;
        }
    }
}
