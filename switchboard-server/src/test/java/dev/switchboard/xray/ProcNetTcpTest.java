package dev.switchboard.xray;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Lines as Linux writes them in {@code /proc/net/tcp} and {@code /proc/net/tcp6}. */
class ProcNetTcpTest {

    @Test
    void readsQueuesByBothEndpointsForIpv4Ipv6AndIpv4MappedSockets() {
        Map<String, long[]> q = new HashMap<>();
        ProcNetTcp.parse(List.of(
                "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
                "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1",
                "   1: 0100007F:1F90 0100007F:C5B6 01 00017800:0000002A 01:00000014 00000000     0        0 2"), q);
        ProcNetTcp.parse(List.of(
                "  sl  local_address                         remote_address                        st tx_queue rx_queue",
                "   0: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:D431 01 00000010:00000000",
                "   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:D432 01 00000000:00000005"),
                q);
        assertThat(q.get("127.0.0.1:8080>127.0.0.1:50614")).containsExactly(0x17800, 0x2A);
        assertThat(q.get("127.0.0.1:8080>0.0.0.0:0")).containsExactly(0, 0); // the listener
        assertThat(q.get("[0:0:0:0:0:0:0:1]:8080>[0:0:0:0:0:0:0:1]:54321")).containsExactly(16, 0);
        assertThat(q.get("127.0.0.1:8080>127.0.0.1:54322")).as("IPv4-mapped, keyed as IPv4").containsExactly(0, 5);
    }

    @Test
    void skipsWhatIsNotASocketLine() {
        Map<String, long[]> q = new HashMap<>();
        ProcNetTcp.parse(List.of("header", "   0: garbage", "   1: 0100007F:1F90 0100007F:C5B6 01 nocolon"), q);
        assertThat(q).isEmpty();
    }
}
