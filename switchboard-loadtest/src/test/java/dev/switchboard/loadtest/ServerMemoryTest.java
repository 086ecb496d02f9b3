package dev.switchboard.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

class ServerMemoryTest {
    @Test
    void readsResidentAndPeakFromAStatusFile() throws Exception {
        List<String> status = List.of("Name:\tjava", "VmPeak:\t 9000000 kB", "VmHWM:\t  720896 kB",
                "VmRSS:\t  167936 kB", "Threads:\t42");
        assertThat(ServerMemory.parse(status, "status"))
                .isEqualTo(new ServerMemory.Reading(167936L * 1024, 720896L * 1024));
        assertThat(ServerMemory.parse(List.of("VmRSS:\t4 kB"), "status"))
                .as("no VmHWM").isEqualTo(new ServerMemory.Reading(4096, -1));
    }

    @Test
    void refusesAStatusWithoutAReadableVmRss() {
        assertThatThrownBy(() -> ServerMemory.parse(List.of("Name:\tkthreadd"), "/proc/2/status"))
                .isInstanceOf(IOException.class).hasMessageContaining("/proc/2/status has no VmRSS");
        assertThatThrownBy(() -> ServerMemory.parse(List.of("VmRSS:\tlots"), "s"))
                .isInstanceOf(IOException.class).hasMessageContaining("unreadable");
    }

    @Test
    void withoutAPidNothingIsMeasured() throws Exception {
        ServerMemory none = new ServerMemory(-1);
        assertThat(none.measured()).isFalse();
        assertThat(none.read()).isEqualTo(ServerMemory.Reading.NONE);
        assertThat(none.sample(10).stop()).isEqualTo(-1);
    }

    @Test
    void samplesThisProcessUntilStopped() throws Exception {
        ServerMemory self = new ServerMemory(ProcessHandle.current().pid());
        ServerMemory.Reading now = self.read();
        assertThat(now.rssBytes()).isPositive();
        assertThat(now.hwmBytes()).isPositive();
        ServerMemory.Sampler sampler = self.sample(10);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> sampler.latest() > 0);
        assertThat(sampler.stop()).isPositive();
    }

    @Test
    void aProcessThatIsGoneIsAnError() {
        assertThatThrownBy(() -> new ServerMemory(Long.MAX_VALUE).read()).isInstanceOf(IOException.class)
                .hasMessageStartingWith("cannot read the server's memory from /proc/" + Long.MAX_VALUE + "/status");
    }
}
