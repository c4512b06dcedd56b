package io.ternmq.broker.cluster;

import io.ternmq.broker.message.MessageIdentity;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which of a dead run's orphans the holder of a session adopted from it accounted for, told to the node the
 * session moves to (with {@link HandoverFrame.Carried}), which gives the session the others, as they come.
 *
 * @param marks  per stream, the forward mark of the replica it was adopted from
 * @param ids    per stream, the orphans beyond the mark it accounted for, as ranges ({@link #ranges})
 * @param routed messages routing gave the session whose orphan had not come yet (one per forward)
 */
record AccountedOrphans(Map<Long, Long> marks, Map<Long, long[]> ids, List<MessageIdentity> routed) {
    /**
     * At most this many notes of routed messages travel (the newest; an orphan comes right after its forward),
     * so that the frame stays within the smallest the link takes beside a packet.
     */
    static final int MAX_NOTES = 512;

    /**
     * Ids as ranges, first and last of each: a stream's orphans are numbered one after another, and a holder accounts
     * for each that came, so a few ranges say it all.
     */
    static long[] ranges(Set<Long> ids) {
        long[] sorted = ids.stream().mapToLong(Long::longValue).sorted().toArray();
        long[] out = new long[2 * sorted.length];
        int n = 0;
        for (int i = 0; i < sorted.length; i++) {
            if (n > 0 && out[n - 1] + 1 == sorted[i]) {
                out[n - 1] = sorted[i];
            } else {
                out[n++] = sorted[i];
                out[n++] = sorted[i];
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }
}
