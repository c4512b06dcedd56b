package io.ternmq.bench;

/**
 * Tells, for one (subscriber, publisher stream), whether each arriving sequence number is new and in order, new but
 * late (out of order), or a duplicate. It remembers the last {@value #WINDOW} sequence numbers below the highest seen
 * in a ring of bits, so it stays small however long the run; anything older than that counts as out of order.
 */
final class StreamTracker {
    static final int WINDOW = 4096;
    static final int IN_ORDER = 0;
    /** New, but after a higher one (or after a gap, when it is the higher one). */
    static final int OUT_OF_ORDER = 1;
    static final int DUPLICATE = 2;
    /** New and higher than the next expected: some are missing, for now. Not an error by itself. */
    static final int GAP = 3;

    private final long[] bits = new long[WINDOW / 64];
    private long max = -1;
    private long first = -1;
    private long distinct;

    int offer(long seq) {
        if (max < 0) {
            max = seq;
            first = seq;
            set(seq);
            distinct++;
            return IN_ORDER;
        }
        if (seq > max) {
            long delta = seq - max;
            if (delta >= WINDOW) {
                java.util.Arrays.fill(bits, 0);
            } else {
                for (long s = max + 1; s < seq; s++) {
                    clear(s);
                }
            }
            set(seq);
            max = seq;
            distinct++;
            return delta == 1 ? IN_ORDER : GAP;
        }
        if (max - seq >= WINDOW) {
            distinct++;
            return OUT_OF_ORDER;
        }
        if (isSet(seq)) {
            return DUPLICATE;
        }
        set(seq);
        distinct++;
        if (seq < first) {
            first = seq;
        }
        return OUT_OF_ORDER;
    }

    /** @return sequence numbers never seen between the first and the highest seen (the loss of a stream whose length is not known) */
    long gaps() {
        return max < 0 ? 0 : Math.max(0, max - first + 1 - distinct);
    }

    private void set(long seq) {
        int i = (int) (seq & (WINDOW - 1));
        bits[i >>> 6] |= 1L << (i & 63);
    }

    private void clear(long seq) {
        int i = (int) (seq & (WINDOW - 1));
        bits[i >>> 6] &= ~(1L << (i & 63));
    }

    private boolean isSet(long seq) {
        int i = (int) (seq & (WINDOW - 1));
        return (bits[i >>> 6] & (1L << (i & 63))) != 0;
    }
}
