package dev.switchboard.cli;

import java.util.Arrays;
import java.util.Locale;
import picocli.CommandLine;

/** Enum options written in lower case on the command line ({@code --fsync always}, {@code --io io_uring}). */
public abstract class LowerEnum<E extends Enum<E>> implements CommandLine.ITypeConverter<E> {
    private final Class<E> type;

    protected LowerEnum(Class<E> type) {
        this.type = type;
    }

    @Override
    public E convert(String value) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not one of "
                    + Arrays.stream(type.getEnumConstants()).map(c -> c.name().toLowerCase(Locale.ROOT)).toList());
        }
    }
}
