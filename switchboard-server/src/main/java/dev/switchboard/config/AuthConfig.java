package dev.switchboard.config;

import java.nio.file.Path;

/**
 * How callers prove who they are ({@code --auth}, docs/auth.md). With {@code jwt}, exactly one key source is set.
 *
 * @param jwt             whether every request but health checks needs a signed token
 * @param hs256SecretFile shared HS256 secret: raw bytes, one trailing newline ignored, at least 32 bytes
 * @param publicKeyFile   PEM public key (RSA for RS256, EC P-256 for ES256), re-read when it changes
 * @param jwksFile        JSON Web Key Set (RS256/ES256 keys, chosen by {@code kid}), re-read when it changes
 * @param issuer          required {@code iss}, or null
 * @param audience        required {@code aud}, or null
 */
public record AuthConfig(boolean jwt, Path hs256SecretFile, Path publicKeyFile, Path jwksFile, String issuer,
                         String audience) {
    public static final AuthConfig NONE = new AuthConfig(false, null, null, null, null, null);

    public static AuthConfig hs256(Path secretFile, String issuer, String audience) {
        return new AuthConfig(true, secretFile, null, null, issuer, audience);
    }
}
