package io.ternmq.broker.transport;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Unmasking a client's frame payload (RFC 6455 §5.3): each byte XORed with the byte of the 4-byte masking key at its
 * offset in the payload modulo 4. Eight bytes at a time through a {@link ByteBuffer}'s absolute long access, which
 * the JIT compiles to plain loads and stores; Netty's decoder goes through the pooled buffer's bounds-checked
 * {@code setLong}, which took 39 % of an I/O loop at 1 KiB payloads (docs/benchmarks.md).
 */
final class WebSocketMask {
    private static final boolean NATIVE_BIG_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN;

    private WebSocketMask() {
    }

    /**
     * Unmasks {@code n} bytes read at {@code src} and writes them at {@code dst} ({@code dst <= src}: the payload
     * may move towards the start of the buffer over the frame headers before it, so that the payloads of many frames
     * leave as one run).
     *
     * @param b             the buffer, in any byte order; its order is set to the native one
     * @param mask          the masking key, its first byte in the most significant bits
     * @param payloadOffset the offset of the byte at {@code src} in its frame's payload (modulo 2^32 will do)
     */
    static void unmask(ByteBuffer b, int src, int dst, int n, int mask, int payloadOffset) {
        int key = Integer.rotateLeft(mask, 8 * (payloadOffset & 3)); // the key as it applies from src on
        b.order(ByteOrder.nativeOrder());
        int inMemory = NATIVE_BIG_ENDIAN ? key : Integer.reverseBytes(key);
        long key8 = (inMemory & 0xFFFF_FFFFL) | ((long) inMemory << 32);
        int i = 0;
        // dst <= src: each eight bytes are read before the store that may overlap them
        for (int end = n - 7; i < end; i += 8) {
            b.putLong(dst + i, b.getLong(src + i) ^ key8);
        }
        for (; i < n; i++) {
            b.put(dst + i, (byte) (b.get(src + i) ^ (key >>> (24 - 8 * (i & 3)))));
        }
    }
}
