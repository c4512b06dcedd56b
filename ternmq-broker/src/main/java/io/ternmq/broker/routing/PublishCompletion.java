package io.ternmq.broker.routing;

import io.netty.util.concurrent.EventExecutor;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The publisher's callback once its message is routed and stored here and every other part it waits for is
 * done: its retained change on every node, and each copy another node must confirm. The parts finish in no known
 * order, on any thread; the callback runs on the publisher's loop.
 */
final class PublishCompletion implements Router.PublishCallback, Runnable, Router.NodeCopies {
    private final Router.PublishCallback callback;
    private final EventExecutor loop;
    /** Parts not done yet: routing and storing here, and each one {@link #expect}ed. */
    private final AtomicInteger parts = new AtomicInteger(1);
    private volatile int matched;
    private volatile boolean quotaExceeded;

    /** Every target of the publish (nodes and subscribers); set before any copy is sent, read after. */
    private DeliveryTarget[] reached = new DeliveryTarget[0];

    PublishCompletion(Router.PublishCallback callback, EventExecutor loop) {
        this.callback = callback;
        this.loop = loop;
    }

    private int packetId;
    private String resentFrom;

    void provenance(int packetId, String resentFrom) {
        this.packetId = packetId;
        this.resentFrom = resentFrom;
    }

    @Override
    public int publisherPacketId() {
        return packetId;
    }

    @Override
    public String resentFrom() {
        return resentFrom;
    }

    void reached(DeliveryTarget[] targets) {
        reached = targets;
    }

    @Override
    public boolean wentTo(DeliveryTarget target) {
        for (DeliveryTarget t : reached) {
            if (t == target) {
                return true;
            }
        }
        return false;
    }

    /** One more part to wait for, whose end is a {@link #run}; before routing here is done. */
    void expect() {
        parts.incrementAndGet();
    }

    @Override
    public void routed(int matched, boolean quotaExceeded) {
        this.matched = matched;
        this.quotaExceeded = quotaExceeded;
        part();
    }

    @Override
    public void run() {
        part();
    }

    private void part() {
        if (parts.decrementAndGet() != 0 || callback == null) {
            return;
        }
        if (loop == null || loop.inEventLoop()) {
            callback.routed(matched, quotaExceeded);
        } else {
            loop.execute(() -> callback.routed(matched, quotaExceeded));
        }
    }
}
