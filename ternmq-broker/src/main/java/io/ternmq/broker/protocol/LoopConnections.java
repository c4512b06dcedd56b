package io.ternmq.broker.protocol;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Promise;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * The open connections of one event loop. It checks their deadlines (CONNECT within the connect timeout, then a
 * packet within one and a half keep-alive periods) four times a second, and tells them all when the server stops.
 * One sweep per loop instead of a timer task per connection, and an array slot instead of a channel-group entry: an
 * idle connection costs a slot here and two fields in itself, and a keep-alive reschedule is not a priority-queue
 * operation. A deadline is noticed at most {@link #PERIOD_MILLIS} late, never early. Touched only on its loop.
 */
public final class LoopConnections implements Runnable {
    static final long PERIOD_MILLIS = 250;
    private static final FastThreadLocal<LoopConnections> OF_LOOP = new FastThreadLocal<>();

    private MqttConnection[] connections = new MqttConnection[64];
    private int size;
    /** Set by {@link #serverShutdown}: completed once the last connection has closed. */
    private Promise<Void> allClosed;

    private LoopConnections() {
    }

    /** The connections of the loop this is called on; the sweep starts on first use. */
    static LoopConnections of(EventExecutor loop) {
        LoopConnections here = OF_LOOP.get();
        if (here == null) {
            here = new LoopConnections();
            OF_LOOP.set(here);
            loop.scheduleWithFixedDelay(here, PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
        }
        return here;
    }

    /**
     * The server is stopping: tells every connection of this loop, which must be the calling thread's.
     *
     * @param closed completed once every connection of this loop has closed
     */
    public static void serverShutdown(Promise<Void> closed) {
        LoopConnections here = OF_LOOP.get();
        if (here == null || here.size == 0) {
            closed.trySuccess(null);
            return;
        }
        here.allClosed = closed;
        for (MqttConnection c : Arrays.copyOf(here.connections, here.size)) {
            c.onServerShutdown();
        }
    }

    /** @return the connection's slot, to hand back to {@link #remove} */
    int add(MqttConnection c) {
        if (size == connections.length) {
            connections = Arrays.copyOf(connections, size * 2);
        }
        connections[size] = c;
        return size++;
    }

    /** Removes the connection in {@code slot}; the last one moves into it and is told its new slot. */
    void remove(int slot) {
        MqttConnection last = connections[--size];
        connections[slot] = last;
        connections[size] = null;
        if (slot != size) {
            last.slotMoved(slot);
        }
        if (size == 0 && allClosed != null) {
            allClosed.trySuccess(null);
        }
    }

    @Override
    public void run() {
        long now = System.nanoTime();
        // backwards: a connection removed while checking swaps in one already checked
        for (int i = size - 1; i >= 0; i--) {
            if (i < size) {
                connections[i].checkDeadline(now);
            }
        }
        if (size < connections.length / 4 && connections.length > 64) {
            connections = Arrays.copyOf(connections, Math.max(64, connections.length / 2));
        }
    }
}
