package dev.switchboard.cli;

import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;

/**
 * Every long option may also be set by an environment variable: {@code --data-dir} reads
 * {@code SWITCHBOARD_DATA_DIR}, {@code --server} reads {@code SWITCHBOARD_URL} (the API's name for it).
 * A flag on the command line wins over the environment, which wins over the built-in default.
 */
public final class EnvironmentDefaults implements CommandLine.IDefaultValueProvider {
    private final Map<String, String> env;

    public EnvironmentDefaults() {
        this(System.getenv());
    }

    EnvironmentDefaults(Map<String, String> env) {
        this.env = env;
    }

    static String variableFor(String longName) {
        if (longName.equals("--server")) {
            return "SWITCHBOARD_URL";
        }
        return "SWITCHBOARD_" + longName.replaceFirst("^--", "").replace('-', '_').toUpperCase(Locale.ROOT);
    }

    @Override
    public String defaultValue(CommandLine.Model.ArgSpec argSpec) {
        if (argSpec instanceof CommandLine.Model.OptionSpec option && option.longestName().startsWith("--")) {
            String value = env.get(variableFor(option.longestName()));
            if (value != null && !value.isBlank()) {
                return value;
            }
        }
        return argSpec.defaultValue();
    }
}
