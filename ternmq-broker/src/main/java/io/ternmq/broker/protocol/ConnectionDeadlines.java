package io.ternmq.broker.protocol;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * The connections of one event loop whose deadlines (CONNECT within the connect timeout, then a packet within one and
 * a half keep-alive periods) it checks four times a second. One sweep per loop instead of one scheduled task per
 * connection: an idle connection then costs two fields here rather than a task object in the loop's timer queue, and
 * rescheduling is not a priority-queue operation per connection. A deadline is noticed at most {@link #PERIOD_MILLIS}
 * late, never early. Touched only on its loop.
 */
final class ConnectionDeadlines implements Runnable {
    static final long PERIOD_MILLIS = 250;
    private static final FastThreadLocal<ConnectionDeadlines> OF_LOOP = new FastThreadLocal<>();

    private MqttConnection[] connections = new MqttConnection[64];
    private int size;

    private ConnectionDeadlines() {
    }

    /** The sweep of the loop this is called on; started on first use. */
    static ConnectionDeadlines of(EventExecutor loop) {
        ConnectionDeadlines sweep = OF_LOOP.get();
        if (sweep == null) {
            sweep = new ConnectionDeadlines();
            OF_LOOP.set(sweep);
            loop.scheduleWithFixedDelay(sweep, PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
        }
        return sweep;
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
        if (last != null && slot != size) {
            last.deadlineSlotMoved(slot);
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
