package io.ternmq.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;

/**
 * Strict UTF-8 decoding for MQTT's UTF-8 encoded strings. Java's decoder silently replaces ill-formed input, so the
 * bytes are checked first against the well-formed sequences of the Unicode standard (table 3-7, restated in RFC
 * 3629): this rejects overlong forms, encoded surrogates (U+D800..U+DFFF), code points past U+10FFFF and truncated
 * sequences [MQTT-1.5.3-1] [MQTT-1.5.4-1]. U+0000 is well-formed UTF-8 but forbidden by MQTT [MQTT-1.5.3-2]
 * [MQTT-1.5.4-2]. A byte order mark is an ordinary U+FEFF and is kept [MQTT-1.5.3-3].
 */
public final class Utf8 {
    /** Outcomes of {@link #check}. */
    static final int VALID = 0;
    static final int NULL_CHARACTER = 1;
    static final int ILL_FORMED = 2;

    private Utf8() {
    }

    /**
     * Whether a payload is well-formed UTF-8, for the Payload Format Indicator (U+0000 is allowed there: it is
     * character data, not an MQTT string).
     */
    public static boolean isWellFormed(byte[] bytes) {
        return check(Unpooled.wrappedBuffer(bytes), 0, bytes.length) != ILL_FORMED;
    }

    /** @return {@link #VALID}, {@link #NULL_CHARACTER} or {@link #ILL_FORMED} for the bytes at [index, index+length) */
    static int check(ByteBuf buf, int index, int length) {
        int end = index + length;
        // Fast path: most MQTT strings are ASCII. Signed bytes 1..127 are positive; 0 and 0x80..0xFF are not.
        int i = buf.forEachByte(index, length, b -> b > 0);
        if (i < 0) {
            return VALID;
        }
        while (i < end) {
            int b = buf.getUnsignedByte(i);
            if (b < 0x80) {
                if (b == 0) {
                    return NULL_CHARACTER;
                }
                i++;
                continue;
            }
            int continuation;
            int secondMin = 0x80;
            int secondMax = 0xBF;
            if (b >= 0xC2 && b <= 0xDF) {
                continuation = 1;
            } else if (b == 0xE0) {
                continuation = 2;
                secondMin = 0xA0; // below is an overlong 3-byte form
            } else if (b == 0xED) {
                continuation = 2;
                secondMax = 0x9F; // above are the surrogates U+D800..U+DFFF
            } else if (b >= 0xE1 && b <= 0xEF) {
                continuation = 2;
            } else if (b == 0xF0) {
                continuation = 3;
                secondMin = 0x90; // below is an overlong 4-byte form
            } else if (b >= 0xF1 && b <= 0xF3) {
                continuation = 3;
            } else if (b == 0xF4) {
                continuation = 3;
                secondMax = 0x8F; // above is past U+10FFFF
            } else {
                return ILL_FORMED; // stray continuation byte, C0/C1 overlong lead, or F5..FF
            }
            if (end - i - 1 < continuation) {
                return ILL_FORMED;
            }
            int second = buf.getUnsignedByte(i + 1);
            if (second < secondMin || second > secondMax) {
                return ILL_FORMED;
            }
            for (int k = 2; k <= continuation; k++) {
                if ((buf.getUnsignedByte(i + k) & 0xC0) != 0x80) {
                    return ILL_FORMED;
                }
            }
            i += continuation + 1;
        }
        return VALID;
    }

    /** Decodes bytes already accepted by {@link #check}. */
    static String decode(ByteBuf buf, int index, int length) {
        return buf.toString(index, length, StandardCharsets.UTF_8);
    }
}
