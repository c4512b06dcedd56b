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

    /** @return false once the hold is over: the caller stores the delivery itself */
    synchronized boolean hold(Delivery d, Runnable stored) {
        if (waiting == null) {
            return false;
        }
        waiting.add(new Waiting(d, stored));
        return true;
    }

    /** {@code m} came by the other path (carried, or given as an orphan). */
    synchronized void carried(Message m) {
        if (waiting != null) {
            carried.merge(MessageIdentity.of(m), 1, Integer::sum);
        }
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
