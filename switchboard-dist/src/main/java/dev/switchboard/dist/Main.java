package dev.switchboard.dist;

import dev.switchboard.cli.EnvironmentDefaults;
import dev.switchboard.cli.JobsCommand;
import dev.switchboard.cli.PubCommand;
import dev.switchboard.cli.SubCommand;
import dev.switchboard.cli.TopCommand;
import dev.switchboard.loadtest.BenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The one entry point: {@code switchboard serve|pub|sub|jobs|top|token|cert|bench}. Exit codes: 0 ok, 1 runtime failure, 2 bad usage. */
@Command(name = "switchboard",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "A communication server for backends: durable topics and jobs over polling, long polling, SSE and WebSocket.",
        subcommands = {ServeCommand.class, PubCommand.class, SubCommand.class, JobsCommand.class,
                TopCommand.class, TokenCommand.class, CertCommand.class, BenchCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main())
                .setDefaultValueProvider(new EnvironmentDefaults())
                .setExecutionExceptionHandler((ex, cmd, parsed) -> {
                    cmd.getErr().println("switchboard: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
                    return 1;
                });
        return cli.execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing command: serve, pub, sub, jobs, top, token, cert or bench");
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"switchboard " + (v == null ? "dev" : v)};
        }
    }
}
