package io.ternmq.broker.store;

import java.util.Map;
import java.util.Set;

/**
 * Where a store also copies its sessions' writes before they are acknowledged: in a cluster, another node's memory
 * (the cluster's session replicas). The store hands over each group of writes (a group commit) as one log per client
 * id ({@link ReplicatedSession} reads them) before it writes the group itself, and runs the group's
 * {@link StoreOp#applied} callbacks only once both are done, in the order of the groups. Retained and held messages
 * are not copied. Without a mirror (a single node) the store writes and acknowledges as before.
 */
public interface StoreMirror {

    /**
     * Starts copying one group's session writes (possibly none); called on the store's writing thread, in group order.
     *
     * @param logs  per client id, that group's writes of the client's session, in order
     * @param first the client ids whose writes are held before the others' are sent: QoS 2 publishers whose packet
     *              ids the group stores, so that no copy holds a message whose packet id no copy holds
     */
    Copy copy(Map<String, byte[]> logs, Set<String> first);

    /** One group's copy under way. */
    interface Copy {
        /**
         * The store has written the group itself: {@code applied} (null: nothing, the write failed) runs once the copy
         * is held too and every earlier group's has run. A copy that cannot be made skips its {@code applied} (the
         * group is not acknowledged; its clients resend) and later groups go on.
         */
        void then(Runnable applied);
    }
}
