package io.ternmq.broker.routing;

import io.ternmq.broker.message.Subscription;
import io.ternmq.codec.QoS;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.function.Predicate;

/**
 * The targets one message goes to. Overlapping subscriptions of one target merge into one entry with the
 * highest QoS and all their subscription identifiers: we send one copy, which the standard allows.
 */
final class MatchedTargets implements SubscriptionTable.MatchVisitor {
    /** A message matched by subscriptions without identifiers carries none. */
    static final int[] NO_IDS = new int[0];
    private static final int LINEAR_SCAN_LIMIT = 8;

    private final String publisherId;
    /** A forwarded message: other nodes are skipped, it was sent to each already. */
    private final boolean localOnly;
    private final boolean withGroups;
    DeliveryTarget[] targets = new DeliveryTarget[4];
    QoS[] qos = new QoS[4];
    boolean[] retainAsPublished = new boolean[4];
    int[][] ids = new int[4][];
    int size;
    List<SharedGroup> groups;
    private IdentityHashMap<DeliveryTarget, Integer> index;
    /** Only the targets it lets through, or all (null). */
    private final Predicate<DeliveryTarget> only;

    MatchedTargets(String publisherId, boolean localOnly, boolean withGroups,
            Predicate<DeliveryTarget> only) {
        this.publisherId = publisherId;
        this.localOnly = localOnly;
        this.withGroups = withGroups;
        this.only = only;
    }

    @Override
    public void visit(DeliveryTarget target, Subscription sub) {
        if ((localOnly && target.isNode()) || (only != null && !only.test(target))) {
            return;
        }
        // no local: not to the connection that published it
        if (sub.noLocal() && target.clientId().equals(publisherId)) {
            return;
        }
        int i = indexOf(target);
        if (i < 0) {
            add(target, sub);
            return;
        }
        qos[i] = QoS.max(qos[i], sub.qos());
        retainAsPublished[i] |= sub.retainAsPublished();
        if (sub.subscriptionId() != 0) {
            int[] old = ids[i];
            int[] grown = Arrays.copyOf(old, old.length + 1);
            grown[old.length] = sub.subscriptionId();
            ids[i] = grown;
        }
    }

    @Override
    public void visitShared(SharedGroup group) {
        if (!withGroups) {
            return;
        }
        if (groups == null) {
            groups = new ArrayList<>(2);
        }
        groups.add(group);
    }

    private int indexOf(DeliveryTarget target) {
        if (index != null) {
            Integer i = index.get(target);
            return i == null ? -1 : i;
        }
        for (int i = 0; i < size; i++) {
            if (targets[i] == target) {
                return i;
            }
        }
        return -1;
    }

    private void add(DeliveryTarget target, Subscription sub) {
        if (size == targets.length) {
            int n = size * 2;
            targets = Arrays.copyOf(targets, n);
            qos = Arrays.copyOf(qos, n);
            retainAsPublished = Arrays.copyOf(retainAsPublished, n);
            ids = Arrays.copyOf(ids, n);
        }
        targets[size] = target;
        qos[size] = sub.qos();
        retainAsPublished[size] = sub.retainAsPublished();
        ids[size] = sub.subscriptionId() == 0 ? NO_IDS : new int[] {sub.subscriptionId()};
        if (index != null) {
            index.put(target, size);
        } else if (size == LINEAR_SCAN_LIMIT) {
            index = new IdentityHashMap<>();
            for (int i = 0; i <= size; i++) {
                index.put(targets[i], i);
            }
        }
        size++;
    }

    int[] subscriptionIds(int i) {
        return ids[i];
    }
}
