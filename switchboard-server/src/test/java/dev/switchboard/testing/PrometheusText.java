package dev.switchboard.testing;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A parser of the Prometheus text exposition format 0.0.4, for tests that read {@code /metrics} as a scraper would:
 * {@code # TYPE} and {@code # HELP} lines, samples {@code name{label="value",…} value [timestamp]} with the format's
 * escapes in label values, and {@code +Inf}, {@code -Inf}, {@code NaN}. Hand-written because the Prometheus Java
 * client (prometheus-metrics-*) writes the format but has no parser; it refuses anything malformed, a sample of an
 * undeclared family and a series given twice, so a broken exposition fails the test instead of being misread.
 */
public final class PrometheusText {
    private static final List<String> SUFFIXES = List.of("_bucket", "_count", "_sum", "_total", "_created");

    /** One series: a sample name and its labels (sorted). */
    public record Series(String name, Map<String, String> labels) {
        public Series {
            labels = new TreeMap<>(labels);
        }
    }

    private final Map<String, String> types = new HashMap<>();
    private final Map<Series, Double> samples = new HashMap<>();

    private PrometheusText() {
    }

    public static PrometheusText parse(String text) {
        PrometheusText p = new PrometheusText();
        String[] lines = text.split("\n", -1);
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n];
            if (line.isBlank()) {
                continue;
            }
            try {
                p.line(line);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("line " + (n + 1) + " of the exposition: " + e.getMessage()
                        + ": " + line, e);
            }
        }
        return p;
    }

    private void line(String line) {
        if (line.startsWith("#")) {
            String[] f = line.split(" ", 4);
            if (f.length >= 4 && f[1].equals("TYPE")) {
                if (types.put(f[2], f[3].trim()) != null) {
                    throw new IllegalArgumentException("family " + f[2] + " declared twice");
                }
            }
            return; // HELP and other comments
        }
        int i = 0;
        while (i < line.length() && isNameChar(line.charAt(i), i == 0)) {
            i++;
        }
        if (i == 0) {
            throw new IllegalArgumentException("no metric name");
        }
        String name = line.substring(0, i);
        Map<String, String> labels = new TreeMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i = labels(line, i + 1, labels);
        }
        if (i >= line.length() || line.charAt(i) != ' ') {
            throw new IllegalArgumentException("expected a space before the value");
        }
        String[] rest = line.substring(i + 1).trim().split(" +");
        if (rest.length < 1 || rest.length > 2) {
            throw new IllegalArgumentException("expected a value and an optional timestamp");
        }
        double value = switch (rest[0]) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(rest[0]);
        };
        if (rest.length == 2) {
            Long.parseLong(rest[1]);
        }
        if (family(name) == null) {
            throw new IllegalArgumentException("sample of a family without # TYPE: " + name);
        }
        if (samples.put(new Series(name, labels), value) != null) {
            throw new IllegalArgumentException("series given twice");
        }
    }

    /** Reads {@code name="value",…}} from {@code i}; returns the index after the closing brace. */
    private static int labels(String line, int i, Map<String, String> into) {
        while (true) {
            if (line.charAt(i) == '}') {
                return i + 1;
            }
            int start = i;
            while (isNameChar(line.charAt(i), i == start)) {
                i++;
            }
            String key = line.substring(start, i);
            if (key.isEmpty() || line.charAt(i) != '=' || line.charAt(i + 1) != '"') {
                throw new IllegalArgumentException("bad label at " + start);
            }
            i += 2;
            StringBuilder value = new StringBuilder();
            while (line.charAt(i) != '"') {
                char c = line.charAt(i++);
                if (c == '\\') {
                    char e = line.charAt(i++);
                    value.append(switch (e) {
                        case 'n' -> '\n';
                        case '\\' -> '\\';
                        case '"' -> '"';
                        default -> throw new IllegalArgumentException("bad escape \\" + e);
                    });
                } else {
                    value.append(c);
                }
            }
            i++;
            if (into.put(key, value.toString()) != null) {
                throw new IllegalArgumentException("label " + key + " given twice");
            }
            if (line.charAt(i) == ',') {
                i++;
            } else if (line.charAt(i) != '}') {
                throw new IllegalArgumentException("expected , or } at " + i);
            }
        }
    }

    private static boolean isNameChar(char c, boolean first) {
        return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9');
    }

    /** The declared family a sample name belongs to, or null. */
    private String family(String sample) {
        if (types.containsKey(sample)) {
            return sample;
        }
        for (String suffix : SUFFIXES) {
            if (sample.endsWith(suffix)) {
                String base = sample.substring(0, sample.length() - suffix.length());
                if (types.containsKey(base)) {
                    return base;
                }
            }
        }
        return null;
    }

    /** The family's declared type ({@code counter}, {@code gauge}, {@code histogram}, …), or null. */
    public String type(String family) {
        return types.get(family);
    }

    /** The value of one series; fails when it is absent. {@code labels}: name, value, name, value, … */
    public double value(String name, String... labels) {
        Double v = samples.get(series(name, labels));
        if (v == null) {
            throw new AssertionError("no series " + series(name, labels) + " in the exposition");
        }
        return v;
    }

    /** Whether any series of this sample name exists. */
    public boolean has(String name) {
        return samples.keySet().stream().anyMatch(s -> s.name().equals(name));
    }

    private static Series series(String name, String... labels) {
        Map<String, String> m = new TreeMap<>();
        for (int i = 0; i < labels.length; i += 2) {
            m.put(labels[i], Objects.requireNonNull(labels[i + 1]));
        }
        return new Series(name, m);
    }
}
