package dev.switchboard.codec.websocket;

import dev.switchboard.broker.Message;
import dev.switchboard.codec.Envelope;
import dev.switchboard.fanout.SharedEncoding;

/**
 * Whole server-to-client text frames (RFC 6455 section 5.2: FIN, opcode 1, unmasked, 7/16/64-bit length), built once
 * per message and written as plain bytes, which Netty's frame encoder passes through untouched.
 */
final class WebSocketFrames {
    /** Where a message caches its frame. */
    static final int MESSAGE_SLOT = Message.newEncodingSlot();

    /** Message frames as every WebSocket subscriber writes them: runs of them are built once per wake-up. */
    static final SharedEncoding MESSAGES = m -> m.encoded(MESSAGE_SLOT, WebSocketFrames::messageFrame);

    private WebSocketFrames() {}

    static byte[] messageFrame(Message m) {
        return textFrame(Envelope.encodeWithOp(m, "message"));
    }

    static byte[] textFrame(byte[] payload) {
        int n = payload.length;
        int header = n < 126 ? 2 : n <= 0xFFFF ? 4 : 10;
        byte[] frame = new byte[header + n];
        frame[0] = (byte) 0x81;
        if (n < 126) {
            frame[1] = (byte) n;
        } else if (n <= 0xFFFF) {
            frame[1] = 126;
            frame[2] = (byte) (n >>> 8);
            frame[3] = (byte) n;
        } else {
            frame[1] = 127;
            for (int i = 0; i < 8; i++) {
                frame[2 + i] = (byte) ((long) n >>> (56 - 8 * i));
            }
        }
        System.arraycopy(payload, 0, frame, header, n);
        return frame;
    }
}
