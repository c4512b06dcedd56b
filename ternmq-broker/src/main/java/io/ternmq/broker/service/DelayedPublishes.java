package io.ternmq.broker.service;

import io.netty.util.concurrent.DefaultEventExecutor;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.routing.Router;
import io.ternmq.broker.store.Recovered;
import io.ternmq.broker.store.Store;
import io.ternmq.broker.store.StoreOp;
import io.ternmq.broker.store.StoreWriter;
import io.ternmq.broker.store.StoredQueue;
import io.ternmq.codec.TopicSyntax;

import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code delayed_publish}: a PUBLISH to {@code $delayed/<seconds>/<topic>} is stored (one store operation, written
 * in the store's order and group commit like any other) and published to {@code <topic>} once its time has come, as
 * if its sender published it then. After a restart, what was stored waits on; what is overdue goes at once.
 *
 * <p>Threading: the waiting messages are a priority queue by due time owned by one thread, {@code ternmq-delayed},
 * with one timer set for the earliest; nothing per message but its queue entry. Publishers' loops reserve a place
 * ({@link #reserve}, an atomic count against {@code max_delayed_messages}) and hand the message to the store; the
 * store's writer hands it to the owner once it is durable.
 */
public final class DelayedPublishes implements AutoCloseable {
    public static final String PREFIX = "$delayed/";
    /** The longest delay: what fits a Message Expiry Interval in milliseconds' thousandths (2^32 - 1 ms). */
    public static final long MAX_DELAY_SECONDS = 4_294_967L;

    /** A {@code $delayed/} topic taken apart. */
    public record Target(long delaySeconds, String topic) {
    }

    private record Pending(long id, long dueMillis, Message message) {
    }

    private final Store store;
    private final Router router;
    private final BrokerMetrics metrics;
    private final int max;
    /** Stored or being stored: counted from the reservation on, so that the bound holds across loops. */
    private final AtomicInteger held = new AtomicInteger();
    private final EventExecutor owner = new DefaultEventExecutor(new DefaultThreadFactory("ternmq-delayed", true));
    // owner thread only
    private final PriorityQueue<Pending> waiting = new PriorityQueue<>(
            (a, b) -> a.dueMillis() != b.dueMillis() ? Long.compare(a.dueMillis(), b.dueMillis())
                    : Long.compare(a.id(), b.id()));
    private ScheduledFuture<?> timer;
    private long timerDue = Long.MAX_VALUE;

    public DelayedPublishes(Store store, Router router, BrokerMetrics metrics, int maxDelayedMessages) {
        this.store = store;
        this.router = router;
        this.metrics = metrics;
        this.max = maxDelayedMessages;
    }

    /**
     * @return the delay and topic of a {@code $delayed/<seconds>/<topic>} topic, or null if it is not well formed
     *         (seconds not a whole number within 0..{@value #MAX_DELAY_SECONDS}, or no valid topic after it)
     */
    public static Target parse(String topic) {
        int slash = topic.indexOf('/', PREFIX.length());
        if (!topic.startsWith(PREFIX) || slash < 0) {
            return null;
        }
        String digits = topic.substring(PREFIX.length(), slash);
        if (digits.isEmpty() || digits.length() > 7) {
            return null;
        }
        long seconds = 0;
        for (int i = 0; i < digits.length(); i++) {
            char ch = digits.charAt(i);
            if (ch < '0' || ch > '9') {
                return null;
            }
            seconds = seconds * 10 + (ch - '0');
        }
        String target = topic.substring(slash + 1);
        if (seconds > MAX_DELAY_SECONDS || target.isEmpty() || !TopicSyntax.isValidTopicName(target)
                || target.startsWith(PREFIX)) {
            return null;
        }
        return new Target(seconds, target);
    }

    /** Takes a place for one more message; false if {@code max_delayed_messages} are held already. Any thread. */
    public boolean reserve() {
        if (held.incrementAndGet() > max) {
            held.decrementAndGet();
            return false;
        }
        return true;
    }

    /** Gives back a place {@link #reserve}d for a message that will not be stored after all. */
    public void unreserve() {
        held.decrementAndGet();
    }

    /** How many messages wait (or are being stored). */
    public int size() {
        return held.get();
    }

    /**
     * Stores a message (its place reserved) to be published at {@code dueMillis}; {@code stored} runs on
     * {@code loop} once it is durable (null: nobody waits). A QoS 2 sender's packet id is stored with it, so that
     * a resend is not stored twice.
     *
     * @param publisher the sender's stored queue, where its inbound QoS 2 id is kept; null if it has none
     */
    public void store(Message message, long dueMillis, StoredQueue publisher, int qos2PacketId, EventExecutor loop,
                      Runnable stored) {
        store.submit(new StoreOp() {
            private long id;

            @Override
            public void prepare(StoreWriter w) {
                id = w.newDelayedId();
                w.putDelayed(id, dueMillis, message);
                if (publisher != null && qos2PacketId != 0) {
                    w.putInboundQos2(publisher.key(), qos2PacketId);
                }
            }

            @Override
            public void applied() {
                metrics.delayedStored.increment();
                Pending p = new Pending(id, dueMillis, message);
                try {
                    owner.execute(() -> add(p));
                } catch (RejectedExecutionException stopping) {
                    return; // the broker is stopping: it stays stored and waits for the next start
                }
                if (stored != null) {
                    loop.execute(stored);
                }
            }
        });
    }

    /** What the store held at start: waits on (or goes at once if overdue). Before the listeners open. */
    public void recovered(List<Recovered.DelayedMessage> delayed) {
        held.addAndGet(delayed.size());
        owner.execute(() -> {
            for (Recovered.DelayedMessage d : delayed) {
                add(new Pending(d.id(), d.dueMillis(), d.message()));
            }
        });
    }

    private void add(Pending p) {
        waiting.add(p);
        if (p.dueMillis() < timerDue) {
            arm(p.dueMillis());
        }
    }

    private void arm(long dueMillis) {
        if (timer != null) {
            timer.cancel(false);
        }
        timerDue = dueMillis;
        timer = owner.schedule(this::releaseDue, Math.max(0, dueMillis - System.currentTimeMillis()),
                TimeUnit.MILLISECONDS);
    }

    private void releaseDue() {
        timer = null;
        timerDue = Long.MAX_VALUE;
        long now = System.currentTimeMillis();
        long[] released = new long[8];
        int n = 0;
        Pending p;
        while ((p = waiting.peek()) != null && p.dueMillis() <= now) {
            waiting.poll();
            release(p, now);
            if (n == released.length) {
                released = java.util.Arrays.copyOf(released, n * 2);
            }
            released[n++] = p.id();
        }
        if (n > 0) {
            // one store operation forgets all released at once: a burst of due messages is one write, not many
            long[] ids = java.util.Arrays.copyOf(released, n);
            store.submit(w -> {
                for (long id : ids) {
                    w.deleteDelayed(id);
                }
            });
        }
        if (p != null) {
            arm(p.dueMillis());
        }
    }

    /**
     * Publishes the message as its sender would have now (its expiry interval starts now); the caller then forgets
     * it in the store. A crash between the two publishes it again after the restart: at least once.
     */
    private void release(Pending p, long now) {
        Message m = p.message();
        router.publish(new Message(m.topic(), m.qos(), m.retain(), m.payload(), m.properties(), m.publisherId(),
                now), null, null);
        held.decrementAndGet();
        metrics.delayedReleased.increment();
    }

    @Override
    public void close() {
        owner.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
