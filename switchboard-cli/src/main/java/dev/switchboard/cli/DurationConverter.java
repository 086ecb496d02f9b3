package dev.switchboard.cli;

import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.Durations;
import java.time.Duration;
import picocli.CommandLine;

/** Duration options in the API's own syntax ({@code 500ms}, {@code 30s}, {@code 2m}, {@code 1h}, {@code 7d}). */
public final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
        try {
            return Durations.parse(value, "duration");
        } catch (ApiException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
