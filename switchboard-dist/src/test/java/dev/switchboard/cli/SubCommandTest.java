package dev.switchboard.cli;

import dev.switchboard.client.From;
import dev.switchboard.dist.Main;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

class SubCommandTest {

    @Test
    void defaults() {
        SubCommand sub = parse("t");
        assertThat(sub.from).isEqualTo(From.next());
        assertThat(sub.via).isEqualTo(SubCommand.Via.ws);
        assertThat(sub.wait).isEqualTo(Duration.ofSeconds(30));
        assertThat(sub.count).isNull();
        assertThat(sub.envelope).isFalse();
    }

    @Test
    void parsesOptions() {
        SubCommand sub = parse("t", "--from", "7", "--via", "poll", "--wait", "500ms", "--count", "3", "--envelope");
        assertThat(sub.from).isEqualTo(From.offset(7));
        assertThat(sub.via).isEqualTo(SubCommand.Via.poll);
        assertThat(sub.wait).isEqualTo(Duration.ofMillis(500));
        assertThat(sub.count).isEqualTo(3);
        assertThat(sub.envelope).isTrue();
    }

    @Test
    void parsesDurationsInTheApiSyntax() {
        DurationConverter durations = new DurationConverter();
        assertThat(durations.convert("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(durations.convert("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(durations.convert("2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(durations.convert("1h")).isEqualTo(Duration.ofHours(1));
    }

    @ParameterizedTest
    @ValueSource(strings = {"30", "1x", "-1s", "1.5s", "s", "PT30S"})
    void refusesOtherDurations(String text) {
        assertThatThrownBy(() -> new DurationConverter().convert(text))
                .isInstanceOf(CommandLine.TypeConversionException.class);
    }

    @Test
    void badValuesAreUsageErrors() {
        assertThat(Main.run("sub", "t", "--from", "latest")).isEqualTo(2);
        assertThat(Main.run("sub", "t", "--wait", "1x")).isEqualTo(2);
        assertThat(Main.run("sub", "t", "--via", "smoke")).isEqualTo(2);
        assertThat(Main.run("sub", "t", "--count", "0")).isEqualTo(2);
        assertThat(Main.run("sub", "t", "--server", "localhost:8080")).isEqualTo(2);
        assertThat(Main.run("pub", "t", "m", "--lines")).isEqualTo(2);
        assertThat(Main.run("pub", "t", "m", "--json", "--type", "text/csv")).isEqualTo(2);
    }

    private static SubCommand parse(String... args) {
        CommandLine cli = new CommandLine(new SubCommand()).setDefaultValueProvider(new EnvironmentDefaults(Map.of()));
        cli.parseArgs(args);
        return cli.getCommand();
    }
}
