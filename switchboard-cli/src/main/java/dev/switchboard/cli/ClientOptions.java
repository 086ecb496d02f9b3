package dev.switchboard.cli;

import dev.switchboard.client.ConnectionListener;
import dev.switchboard.client.Switchboard;
import dev.switchboard.client.SwitchboardOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What every client command ({@code pub}, {@code sub}, {@code jobs …}, {@code bench …}) shares: the
 * {@code --server} and {@code --token}/{@code --token-file} options, and how it reads its input, writes its output
 * and reports a usage error.
 */
public final class ClientOptions {
    @Option(names = "--server", defaultValue = "http://127.0.0.1:8080",
            description = "Server URL (env SWITCHBOARD_URL). Default: ${DEFAULT-VALUE}")
    public URI server;

    @Option(names = "--token", description = "Token for a server started with --auth jwt, sent as 'Authorization: Bearer' "
            + "(env SWITCHBOARD_TOKEN; docs/auth.md)")
    public String token;

    @Option(names = "--token-file", description = "File holding the token instead, read again for every connection: "
            + "whatever renews it there keeps a long-running sub going past each expiry (env SWITCHBOARD_TOKEN_FILE)")
    public Path tokenFile;

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /** The server URL without a trailing slash, ready for appending paths. */
    public String base() {
        String s = server.toString();
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }

    /** A library client of {@code --server}; a URL that is not http(s) is a usage error. */
    Switchboard connect(ConnectionListener listener) {
        return connect(listener, List.of());
    }

    /** The same, failing over to {@code failover}, other nodes of the same server (docs/cluster.md), in order. */
    Switchboard connect(ConnectionListener listener, List<URI> failover) {
        SwitchboardOptions.Builder options = SwitchboardOptions.builder();
        for (URI node : concat(server, failover)) {
            try {
                options.server(node.toString());
            } catch (IllegalArgumentException e) {
                throw usage("--server and --failover must be http:// or https:// URLs, got '" + node + "'");
            }
        }
        // A command fails at once when no server answers, as before it used the library; its streams and workers
        // still reconnect until stopped.
        if (token != null && tokenFile != null) {
            throw usage("--token and --token-file are mutually exclusive");
        }
        if (token != null || tokenFile != null) {
            options.token(this::token); // asked again for every connection: a renewed --token-file is picked up
        }
        return Switchboard.connect(options.retryFor(Duration.ZERO).listener(listener).build());
    }

    private static List<URI> concat(URI first, List<URI> rest) {
        List<URI> all = new ArrayList<>(List.of(first));
        all.addAll(rest);
        return all;
    }

    /** The token to send now: {@code --token}, or what {@code --token-file} holds now, or null. */
    public String token() {
        if (tokenFile == null) {
            return token;
        }
        if (token != null) {
            throw usage("--token and --token-file are mutually exclusive");
        }
        try {
            String t = Files.readString(tokenFile, StandardCharsets.UTF_8).trim();
            return t.isEmpty() ? null : t;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read --token-file " + tokenFile + ": " + e.getMessage(), e);
        }
    }

    /** A usage error of the command: picocli prints it with the command's usage and exits 2. */
    public CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(command.commandLine(), message);
    }

    /** Whether a payload argument says "read stdin": {@code -} or nothing. */
    static boolean readsStdin(String argument) {
        return argument == null || argument.equals("-");
    }

    /** A payload argument's bytes (UTF-8), or all of stdin when it {@linkplain #readsStdin says so}. */
    static byte[] argumentOrStdin(String argument) throws IOException {
        return readsStdin(argument) ? System.in.readAllBytes() : argument.getBytes(StandardCharsets.UTF_8);
    }

    /** Standard output in UTF-8 whatever the locale (the JVM's often defaults to ASCII), flushed at each line. */
    static PrintStream stdout() {
        return new PrintStream(System.out, true, StandardCharsets.UTF_8);
    }
}
