package dev.switchboard.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

class ByteSizeConverterTest {
    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource({
        "0, 0", "1024, 1024", "17B, 17", "64KB, 65536", "64kb, 65536", "64KiB, 65536", "64k, 65536",
        "200MB, 209715200", "200 MiB, 209715200", "5m, 5242880", "2GB, 2147483648", "1GiB, 1073741824",
        "' 3MB ', 3145728"})
    void parsesWholeNumbersWithBinaryUnits(String text, long bytes) {
        assertThat(ByteSizeConverter.parse(text)).isEqualTo(bytes);
        assertThat(new ByteSizeConverter().convert(text)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "MB", "1.5MB", "-1", "10TB", "10 M B", "ten", "9223372036854775807KB",
        "99999999999999999999"})
    void refusesAnythingElse(String text) {
        assertThatThrownBy(() -> ByteSizeConverter.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(text.strip().isEmpty() ? "size" : text.strip());
        assertThatThrownBy(() -> new ByteSizeConverter().convert(text))
                .isInstanceOf(CommandLine.TypeConversionException.class);
    }

    @ParameterizedTest
    @CsvSource({"0, 0.0 MiB", "1048576, 1.0 MiB", "209715200, 200.0 MiB", "1610612736, '1,536.0 MiB'"})
    void formatsMebibytes(long bytes, String text) {
        assertThat(ByteSizeConverter.mib(bytes)).isEqualTo(text);
    }
}
