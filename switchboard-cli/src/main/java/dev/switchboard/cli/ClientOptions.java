package dev.switchboard.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What every client command ({@code pub}, {@code sub}, {@code jobs …}, {@code bench …}) shares: the
 * {@code --server} option, and how it reads its input, writes its output and reports a usage error.
 */
public final class ClientOptions {
    @Option(names = "--server", defaultValue = "http://127.0.0.1:8080",
            description = "Server URL (env SWITCHBOARD_URL). Default: ${DEFAULT-VALUE}")
    public URI server;

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /** The server URL without a trailing slash, ready for appending paths. */
    public String base() {
        return Urls.withoutTrailingSlash(server.toString());
    }

    /** The topic endpoints of {@code --server}; a URL that is not http(s) is a usage error. */
    Urls urls() {
        try {
            return Urls.of(this);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
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
