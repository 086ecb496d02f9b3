package dev.switchboard.dist;

import dev.switchboard.transport.tls.DevCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code switchboard cert dev}: a development CA and a localhost certificate for {@code serve --tls-cert}. */
@Command(name = "cert", mixinStandardHelpOptions = true, description = "Certificates for development.",
        subcommands = CertCommand.Dev.class)
final class CertCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: dev");
    }

    @Command(name = "dev", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Write a local development CA (ca.pem) and a certificate for localhost, 127.0.0.1 and ::1 "
                    + "signed by it (cert.pem, key.pem). Trust ca.pem in your browser or client; never in production.")
    static final class Dev implements Callable<Integer> {
        @Option(names = "--out", required = true, description = "Directory to write ca.pem, cert.pem and key.pem into")
        Path out;

        @Option(names = "--days", defaultValue = "365", description = "Validity in days. Default: ${DEFAULT-VALUE}")
        int days;

        @Option(names = "--force", description = "Replace certificates already in --out")
        boolean force;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (days < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--days must be at least 1");
            }
            for (String name : new String[] {"ca.pem", "cert.pem", "key.pem"}) {
                if (!force && Files.exists(out.resolve(name))) {
                    throw new CommandLine.ParameterException(spec.commandLine(), out.resolve(name)
                            + " exists; pass --force to replace it (clients that trust the old ca.pem will not trust "
                            + "the new one)");
                }
            }
            Instant now = Instant.now();
            DevCertificates certs = DevCertificates.create(now.minus(Duration.ofMinutes(1)),
                    now.plus(Duration.ofDays(days)));
            certs.write(out);
            spec.commandLine().getOut().printf("wrote %s (the CA to trust), %s and %s (for serve --tls-cert/--tls-key),"
                    + " valid until %s%n", out.resolve("ca.pem"), out.resolve("cert.pem"), out.resolve("key.pem"),
                    certs.leaf().getNotAfter().toInstant());
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
