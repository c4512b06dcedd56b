package io.ternmq.broker.session;

import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.MessageIdentity;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A session that just moved here from another node, while that node may still carry it messages (those it routed to
 * the session before its routes went): QoS 1/2 messages routed to it here wait, so that they join its queue after
 * everything carried, in each publisher's order, and a message that came both ways joins it once. The old holder says
 * when it has carried everything; then what waited is stored, and only then are its publishers acknowledged.
 * Guarded by itself; any thread.
 */
final class MoveInHold {
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

    /** The old holder carried {@code m}. */
    synchronized void carried(Message m) {
        if (waiting != null) {
            carried.merge(MessageIdentity.of(m), 1, Integer::sum);
        }
    }

    /**
     * The hold is over: what waited, in order, less what was carried as well (whose {@code stored} runs at once: the
     * carried copy holds it).
     */
    List<Waiting> release() {
        List<Waiting> all;
        synchronized (this) {
            all = waiting;
            waiting = null;
        }
        if (all == null) {
            return List.of();
        }
        List<Waiting> out = new ArrayList<>(all.size());
        for (Waiting w : all) {
            MessageIdentity k = MessageIdentity.of(w.delivery().message());
            Integer n = carried.get(k);
            if (n == null) {
                out.add(w);
            } else {
                if (n == 1) {
                    carried.remove(k);
                } else {
                    carried.put(k, n - 1);
                }
                w.stored().run();
            }
        }
        carried.clear();
        return out;
    }
}
