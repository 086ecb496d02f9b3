/**
 * Who is calling and what they may do: a signed token (JWT) checked without server-side session state, turned into
 * {@link dev.switchboard.auth.Grants} that the router and the push codecs consult. Nothing here knows HTTP.
 *
 * <p>Threads: any; an authenticator is shared by every connection.
 */
package dev.switchboard.auth;
