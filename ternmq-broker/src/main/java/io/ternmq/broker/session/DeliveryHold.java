package io.ternmq.broker.session;

import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.MessageIdentity;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * QoS 1/2 messages routed to a session while messages that must go before them are still on their way to its queue
 * by another path: those its old node carries to a session that just moved here (routed to it there before its routes
 * went), or the orphans the members kept for a session restored here without a replica (routed to this node's dead
 * run). They wait, so that they join its queue after those, in each publisher's order, and a message that came both
 * ways joins it once. When those are in, what waited is stored, and only then are its publishers acknowledged.
 * Guarded by itself; any thread.
 */
final class DeliveryHold {
    /** A delivery waiting, and what runs once it is stored. */
    record Waiting(Delivery delivery, Runnable stored) {
    }

    private List<Waiting> waiting = new ArrayList<>();
    /** Messages carried here, not yet met among those waiting. */
    private final Map<MessageIdentity, Integer> carried = new HashMap<>();
    /**
     * Messages that left the hold before a carried message of their publisher ({@link #carried}): should a copy of
     * one come by the other path too (its publisher's messages reached the old node by two links), it is stored.
     */
    private java.util.Set<MessageIdentity> storedEarly;

    /** @return false once the hold is over: the caller stores the delivery itself */
    synchronized boolean hold(Delivery d, Runnable stored) {
        if (waiting == null) {
            return false;
        }
        waiting.add(new Waiting(d, stored));
        return true;
    }

    /**
     * {@code m} came by the other path (carried, or given as an orphan) and is stored now. If its copy routed here
     * waits, the messages of its publisher that wait before that copy and came by this path only are older in that
     * publisher's order, yet would follow it: they leave the hold now, to be stored before {@code m} (a chaos run:
     * a resend routed here only, the messages after it carried, and the resend last).
     *
     * @return those to store before {@code m}, in order (usually none); null if {@code m} itself left the hold so
     *         earlier (its publisher's order put it before a carried message): it is stored already
     */
    synchronized List<Waiting> carried(Message m) {
        if (waiting == null) {
            return List.of();
        }
        MessageIdentity k = MessageIdentity.of(m);
        if (storedEarly != null && storedEarly.remove(k)) {
            return null;
        }
        carried.merge(k, 1, Integer::sum);
        List<Waiting> first = null;
        for (int i = 0; i < waiting.size(); i++) {
            Message w = waiting.get(i).delivery().message();
            if (!w.publisherId().equals(m.publisherId())) {
                continue;
            }
            MessageIdentity wk = MessageIdentity.of(w);
            if (wk.equals(k)) {
                if (first == null) {
                    return List.of();
                }
                for (Waiting f : first) {
                    waiting.remove(f);
                    if (storedEarly == null) {
                        storedEarly = new java.util.HashSet<>();
                    }
                    storedEarly.add(MessageIdentity.of(f.delivery().message()));
                }
                return first;
            }
            if (!carried.containsKey(wk)) {
                if (first == null) {
                    first = new ArrayList<>(2);
                }
                first.add(waiting.get(i));
            }
        }
        return List.of(); // its copy routed here is not among those waiting: nothing to tell about its order
    }

    /**
     * The hold is over: what waited goes to {@code store}, in order, less what was carried as well (whose
     * {@code stored} runs at once: the carried copy holds it). Under this hold's lock, so that a delivery routed
     * meanwhile ({@link #hold} answering false from then on) is stored after them, not between.
     *
     * @return how many went to {@code store}
     */
    int release(Consumer<Waiting> store) {
        List<Runnable> held = new ArrayList<>();
        int released = 0;
        synchronized (this) {
            List<Waiting> all = waiting;
            waiting = null;
            if (all == null) {
                return 0;
            }
            for (Waiting w : all) {
                MessageIdentity k = MessageIdentity.of(w.delivery().message());
                Integer n = carried.get(k);
                if (n == null) {
                    store.accept(w);
                    released++;
                } else {
                    if (n == 1) {
                        carried.remove(k);
                    } else {
                        carried.put(k, n - 1);
                    }
                    held.add(w.stored());
                }
            }
            carried.clear();
        }
        held.forEach(Runnable::run); // outside the lock: they may acknowledge publishers
        return released;
    }
}
