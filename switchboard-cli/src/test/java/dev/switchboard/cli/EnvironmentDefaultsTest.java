package dev.switchboard.cli;

import dev.switchboard.client.From;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class EnvironmentDefaultsTest {

    @Test
    void namesVariablesAfterLongOptions() {
        assertThat(EnvironmentDefaults.variableFor("--data-dir")).isEqualTo("SWITCHBOARD_DATA_DIR");
        assertThat(EnvironmentDefaults.variableFor("--via")).isEqualTo("SWITCHBOARD_VIA");
        assertThat(EnvironmentDefaults.variableFor("--server")).isEqualTo("SWITCHBOARD_URL");
    }

    @Test
    void optionsReadTheEnvironment() {
        SubCommand sub = parse(Map.of("SWITCHBOARD_URL", "http://env:1", "SWITCHBOARD_VIA", "sse", "SWITCHBOARD_FROM", "earliest"), "t");
        assertThat(sub.client.server).isEqualTo(URI.create("http://env:1"));
        assertThat(sub.via).isEqualTo(SubCommand.Via.sse);
        assertThat(sub.from).isEqualTo(From.earliest());
    }

    @Test
    void aFlagWinsOverTheEnvironment() {
        SubCommand sub = parse(Map.of("SWITCHBOARD_URL", "http://env:1", "SWITCHBOARD_VIA", "sse"),
                "t", "--server", "http://flag:2", "--via", "poll");
        assertThat(sub.client.server).isEqualTo(URI.create("http://flag:2"));
        assertThat(sub.via).isEqualTo(SubCommand.Via.poll);
    }

    @Test
    void aBlankVariableLeavesTheBuiltInDefault() {
        SubCommand sub = parse(Map.of("SWITCHBOARD_URL", " ", "SWITCHBOARD_SERVER", "http://wrong-name:3"), "t");
        assertThat(sub.client.server).isEqualTo(URI.create("http://127.0.0.1:8080"));
    }

    private static SubCommand parse(Map<String, String> env, String... args) {
        CommandLine cli = new CommandLine(new SubCommand()).setDefaultValueProvider(new EnvironmentDefaults(env));
        cli.parseArgs(args);
        return cli.getCommand();
    }
}
