package dev.switchboard.dist;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.switchboard.auth.Hs256Secret;
import dev.switchboard.auth.JwtAuthenticator;
import dev.switchboard.cli.DurationConverter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code switchboard token}: mints an HS256 token for development with the server's secret file (docs/auth.md).
 * Production tokens come from the application's own login, signed with the same secret or a private key.
 */
@Command(name = "token", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Print a signed development token (HS256) for a server started with --auth jwt --auth-hs256-secret-file.")
final class TokenCommand implements Callable<Integer> {

    @Option(names = "--secret-file", required = true, description = "The server's --auth-hs256-secret-file")
    Path secretFile;

    @Option(names = "--subject", required = true, description = "Who the token is for (sub); expands {sub} in patterns")
    String subject;

    @Option(names = "--publish", description = "Topic pattern the caller may publish to (repeatable; * one segment, > the rest)")
    List<String> publish = new ArrayList<>();

    @Option(names = "--subscribe", description = "Topic pattern the caller may read (repeatable)")
    List<String> subscribe = new ArrayList<>();

    @Option(names = "--submit", description = "Queue pattern the caller may submit jobs to (repeatable)")
    List<String> submit = new ArrayList<>();

    @Option(names = "--work", description = "Queue pattern the caller may claim and work jobs of (repeatable)")
    List<String> work = new ArrayList<>();

    @Option(names = "--admin", description = "Admin rights: /metrics, /v1/admin/*, topic retention and delete, queue settings")
    boolean admin;

    @Option(names = "--ttl", defaultValue = "1h", converter = DurationConverter.class,
            description = "How long the token is valid. Default: ${DEFAULT-VALUE}")
    Duration ttl;

    @Option(names = "--issuer", description = "iss, for a server started with --auth-issuer")
    String issuer;

    @Option(names = "--audience", description = "aud, for a server started with --auth-audience")
    String audience;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Map<String, Object> sb = new LinkedHashMap<>();
        sb.put("pub", publish);
        sb.put("sub", subscribe);
        sb.put("submit", submit);
        sb.put("work", work);
        sb.put("admin", admin);
        Instant now = Instant.now();
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder().subject(subject).issueTime(Date.from(now))
                .expirationTime(Date.from(now.plus(ttl))).claim(JwtAuthenticator.CLAIM, sb);
        if (issuer != null) {
            claims.issuer(issuer);
        }
        if (audience != null) {
            claims.audience(audience);
        }
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims.build());
        jwt.sign(new MACSigner(Hs256Secret.read(secretFile)));
        spec.commandLine().getOut().println(jwt.serialize());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
