package io.ternmq.broker.routing;

import io.ternmq.broker.config.SharedSubscriptionStrategy;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.message.Message;

import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One shared subscription group, {@code $share/{name}/{filter}}: its members, the strategy that picks the member
 * each message goes to, and the messages held for the group while no member is online. Members change under the
 * group's lock (copy-on-write); picking reads the current array without locking, from any event loop.
 */
public final class SharedGroup {

    /** A member: a target and its subscription (QoS, subscription identifier) to this group. */
    public record Member(DeliveryTarget target, Subscription subscription) {
    }

    /** A message held for the group; {@code seq} and {@code messageId} are 0 unless it is in the store. */
    record Held(long seq, long messageId, Message message) {
        boolean stored() {
            return messageId != 0;
        }
    }

    private static final Member[] NONE = new Member[0];

    private final String name;
    private final String filter;
    private final SharedSubscriptionStrategy strategy;
    private final int maxPending;
    private volatile Member[] members = NONE;
    private final AtomicInteger cursor = new AtomicInteger();
    private volatile Member sticky;
    private final ConcurrentLinkedQueue<Held> pending = new ConcurrentLinkedQueue<>();
    private final AtomicInteger pendingCount = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong nextHeldSeq = new java.util.concurrent.atomic.AtomicLong(1);

    SharedGroup(String name, String filter, SharedSubscriptionStrategy strategy, int maxPending) {
        this.name = name;
        this.filter = filter;
        this.strategy = strategy;
        this.maxPending = maxPending;
    }

    public String name() {
        return name;
    }

    /** The topic filter after {@code $share/{name}/}. */
    public String filter() {
        return filter;
    }

    /** The whole shared filter, {@code $share/{name}/{filter}}: how deliveries and the store name the group. */
    public String key() {
        return io.ternmq.codec.TopicSyntax.SHARE_PREFIX + name + "/" + filter;
    }

    /** Adds or replaces a member. */
    synchronized void put(DeliveryTarget target, Subscription subscription) {
        Member[] current = members;
        for (int i = 0; i < current.length; i++) {
            if (current[i].target() == target) {
                Member[] copy = current.clone();
                copy[i] = new Member(target, subscription);
                members = copy;
                return;
            }
        }
        Member[] grown = Arrays.copyOf(current, current.length + 1);
        grown[current.length] = new Member(target, subscription);
        members = grown;
    }

    /** @return true if it was a member */
    synchronized boolean remove(DeliveryTarget target) {
        Member[] current = members;
        for (int i = 0; i < current.length; i++) {
            if (current[i].target() == target) {
                Member[] shrunk = new Member[current.length - 1];
                System.arraycopy(current, 0, shrunk, 0, i);
                System.arraycopy(current, i + 1, shrunk, i, current.length - i - 1);
                members = shrunk;
                return true;
            }
        }
        return false;
    }

    /** Whether a member is a session of this node (not another node). */
    boolean isLocal() {
        for (Member m : members) {
            if (!m.target().isNode()) {
                return true;
            }
        }
        return false;
    }

    synchronized boolean isEmpty() {
        return members.length == 0;
    }

    /** @return the member of this target, or null */
    Member memberOf(DeliveryTarget target) {
        for (Member m : members) {
            if (m.target() == target) {
                return m;
            }
        }
        return null;
    }

    /** Picks an online member for a message from {@code publisherId}, or null if no member is online. */
    Member pick(String publisherId) {
        return pick(publisherId, false);
    }

    /**
     * Picks an online member on this node (not another node), or null: for what another node forwarded to this one
     * for the group, and for held messages, which never travel on to another node (two nodes whose members are all
     * offline would otherwise pass them back and forth).
     */
    Member pickLocal(String publisherId) {
        return pick(publisherId, true);
    }

    private Member pick(String publisherId, boolean localOnly) {
        Member[] ms = members;
        int n = ms.length;
        if (n == 0) {
            return null;
        }
        if (strategy == SharedSubscriptionStrategy.STICKY) {
            Member s = sticky;
            if (s != null && s.target().isOnline() && (!localOnly || !s.target().isNode())
                    && memberOf(s.target()) != null) {
                return s;
            }
        }
        int start = switch (strategy) {
            case ROUND_ROBIN, STICKY -> Math.floorMod(cursor.getAndIncrement(), n);
            case RANDOM -> ThreadLocalRandom.current().nextInt(n);
            case HASH_CLIENT_ID -> Math.floorMod(publisherId == null ? 0 : publisherId.hashCode(), n);
        };
        for (int i = 0; i < n; i++) {
            Member m = ms[(start + i) % n];
            if (m.target().isOnline() && (!localOnly || !m.target().isNode())) {
                if (strategy == SharedSubscriptionStrategy.STICKY) {
                    sticky = m;
                }
                return m;
            }
        }
        return null;
    }

    /** Reserves room for a held message. @return false if the group's queue is full */
    boolean reserveHold() {
        if (pendingCount.incrementAndGet() > maxPending) {
            pendingCount.decrementAndGet();
            return false;
        }
        return true;
    }

    /** Holds a message for which {@link #reserveHold} made room. */
    void hold(Held held) {
        pending.add(held);
    }

    /** The seq of the next held message in the store (given out in the store's order). */
    long nextHeldSeq() {
        return nextHeldSeq.getAndIncrement();
    }

    /** A held message read back from the store at start-up. */
    public void recovered(long seq, long messageId, Message message) {
        pendingCount.incrementAndGet();
        pending.add(new Held(seq, messageId, message));
        nextHeldSeq.accumulateAndGet(seq + 1, Math::max);
    }

    /** @return the next held message, or null */
    Held nextHeld() {
        Held h = pending.poll();
        if (h != null) {
            pendingCount.decrementAndGet();
        }
        return h;
    }

    public int heldCount() {
        return pendingCount.get();
    }
}
