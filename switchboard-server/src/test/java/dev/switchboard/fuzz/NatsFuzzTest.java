package dev.switchboard.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.switchboard.codec.nats.DecodedOps;
import java.util.Arrays;
import java.util.List;

/**
 * The NATS port's parser (codec/nats), fuzzed like {@link ParserFuzzTest}'s: any bytes decode to ops without an
 * exception, nothing follows a refusal, and the ops do not depend on how the bytes are split into reads. Seeds in
 * {@code src/test/resources/dev/switchboard/fuzz/NatsFuzzTestInputs/<method>/}; run {@code bin/fuzz} for new ones.
 */
class NatsFuzzTest {
    private static final int MAX_PAYLOAD = 256;

    @FuzzTest
    void anyInputDecodesTheSameHoweverItIsSplit(FuzzedDataProvider data) {
        int split = data.consumeInt(0, 4096);
        byte[] input = data.consumeRemainingAsBytes();
        List<String> whole = DecodedOps.decode(MAX_PAYLOAD, input);
        int at = Math.min(split, input.length);
        List<String> split2 = DecodedOps.decode(MAX_PAYLOAD, Arrays.copyOfRange(input, 0, at),
                Arrays.copyOfRange(input, at, input.length));
        assertThat(split2).isEqualTo(whole);
        for (int i = 0; i < whole.size() - 1; i++) {
            assertThat(whole.get(i)).as("nothing is read after a refusal").doesNotStartWith("Malformed");
        }
    }
}
