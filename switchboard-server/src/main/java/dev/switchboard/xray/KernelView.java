package dev.switchboard.xray;

import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.epoll.EpollTcpInfo;
import io.netty.channel.socket.SocketChannelConfig;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.channel.uring.IoUringTcpInfo;

/**
 * The kernel's view of one socket. Every engine reads the socket options and, from {@code /proc/net/tcp}, the queues;
 * {@code TCP_INFO} comes from Netty's native transports (epoll and io_uring both read the same 104-byte prefix of
 * {@code struct tcp_info}); NIO exposes no descriptor, so its TCP_INFO fields are null. A null field is one the
 * engine cannot read.
 *
 * @param sendQueueBytes bytes in the socket's send queue: written by the server, not yet acknowledged by the peer
 *                       ({@code tx_queue} of {@code /proc/net/tcp})
 * @param recvQueueBytes bytes received and not yet read by the server ({@code rx_queue})
 * @param rttMicros      smoothed round-trip time; {@code rttVarMicros} its variation
 * @param cwnd           congestion window in segments; {@code ssthresh} its slow-start threshold (2147483647: not set)
 * @param retransmits    retransmissions of the current unacknowledged segment; {@code totalRetransmits} over the
 *                       socket's life
 * @param lost           segments considered lost; {@code unacked} segments sent and not acknowledged
 */
public record KernelView(Long sendQueueBytes, Long recvQueueBytes, Boolean tcpNoDelay, Integer sndBuf, Integer rcvBuf,
                         Long rttMicros, Long rttVarMicros, Long cwnd, Long ssthresh, Integer retransmits,
                         Long totalRetransmits, Long lost, Long unacked, Long pmtu, Long sndMss) {

    /** On the channel's event loop: options and TCP_INFO; the queues come from {@code /proc} afterwards. */
    static KernelView read(Channel ch) {
        Boolean noDelay = null;
        Integer sndBuf = null;
        Integer rcvBuf = null;
        if (ch.isActive() && ch.config() instanceof SocketChannelConfig c) {
            try {
                noDelay = c.isTcpNoDelay();
                sndBuf = c.getSendBufferSize();
                rcvBuf = c.getReceiveBufferSize();
            } catch (ChannelException e) {
                // closed meanwhile: the fields stay unknown
            }
        }
        long[] info = ch.isActive() ? tcpInfo(ch) : null;
        if (info == null) {
            return new KernelView(null, null, noDelay, sndBuf, rcvBuf, null, null, null, null, null, null, null,
                    null, null, null);
        }
        return new KernelView(null, null, noDelay, sndBuf, rcvBuf, info[0], info[1], info[2], info[3],
                (int) info[4], info[5], info[6], info[7], info[8], info[9]);
    }

    /** rtt, rttvar, cwnd, ssthresh, retransmits, total retrans, lost, unacked, pmtu, snd_mss; null on NIO. */
    private static long[] tcpInfo(Channel ch) {
        try {
            if (ch instanceof EpollSocketChannel e) {
                EpollTcpInfo i = e.tcpInfo();
                return new long[] {i.rtt(), i.rttvar(), i.sndCwnd(), i.sndSsthresh(), i.retransmits(),
                    i.totalRetrans(), i.lost(), i.unacked(), i.pmtu(), i.sndMss()};
            }
            if (ch instanceof IoUringSocketChannel u) {
                IoUringTcpInfo i = u.tcpInfo();
                return new long[] {i.rtt(), i.rttvar(), i.sndCwnd(), i.sndSsthresh(), i.retransmits(),
                    i.totalRetrans(), i.lost(), i.unacked(), i.pmtu(), i.sndMss()};
            }
        } catch (ChannelException e) {
            return null; // the socket closed between the check and the call
        }
        return null;
    }

    KernelView withQueues(long send, long receive) {
        return new KernelView(send, receive, tcpNoDelay, sndBuf, rcvBuf, rttMicros, rttVarMicros, cwnd, ssthresh,
                retransmits, totalRetransmits, lost, unacked, pmtu, sndMss);
    }
}
