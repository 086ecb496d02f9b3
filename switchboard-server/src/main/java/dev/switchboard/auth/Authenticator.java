package dev.switchboard.auth;

/**
 * Turns the token a request carries into the caller's {@link Grants}, or refuses it (an
 * {@link dev.switchboard.wire.ApiException} with {@code unauthorized} or {@code token_expired}).
 */
public interface Authenticator {
    /** No authentication ({@code --auth none}): every caller may do anything. */
    Authenticator NONE = token -> Grants.ANYONE;

    /** @param token the token as sent, or null when the request carries none */
    Grants verify(String token);
}
