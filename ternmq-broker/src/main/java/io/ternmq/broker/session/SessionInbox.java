package io.ternmq.broker.session;

import io.netty.util.concurrent.EventExecutor;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.store.StoredEntry;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The inbox of a {@link Session}: the only way other threads reach it. Producers push work with a CAS; the owner event
 * loop takes everything waiting and handles it in submission order. Ownership can move to another loop (a takeover)
 * without reordering anything: the move is itself inbox work, and whichever loop owns the session next drains the
 * same queue. A superclass rather than an object of its own, so that an idle session's empty inbox costs no object.
 */
abstract class SessionInbox {
    private volatile EventExecutor owner;
    /**
     * The inbox, newest first: producers push with a CAS, the owner takes the whole stack and reverses it into
     * {@link #batch}. Inline fields rather than a queue object, because every connection has a session and an empty
     * inbox should cost nothing.
     */
    private volatile InboxNode pushed;
    /** Taken from the inbox, oldest first, not yet handled; owner only (a takeover hands it to the new owner). */
    private InboxNode batch;
    /** Deliveries waiting in the inbox: they count towards congestion before the owner has queued them. */
    private volatile int inboxDeliveries;
    private volatile boolean drainScheduled;

    private static final VarHandle PUSHED;
    private static final VarHandle INBOX_DELIVERIES;
    private static final VarHandle DRAIN_SCHEDULED;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            PUSHED = lookup.findVarHandle(SessionInbox.class, "pushed", InboxNode.class);
            INBOX_DELIVERIES = lookup.findVarHandle(SessionInbox.class, "inboxDeliveries", int.class);
            DRAIN_SCHEDULED = lookup.findVarHandle(SessionInbox.class, "drainScheduled", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final class InboxNode {
        final Object work;
        InboxNode next;

        InboxNode(Object work) {
            this.work = work;
        }
    }

    SessionInbox(EventExecutor owner) {
        this.owner = owner;
    }

    /** The event loop that owns the session now. */
    public EventExecutor owner() {
        return owner;
    }

    /** Moves ownership to another event loop; must be the last thing a task does with this session. */
    final void moveTo(EventExecutor newOwner) {
        owner = newOwner;
    }

    /** Deliveries waiting in the inbox: they count towards congestion before the owner has queued them. */
    final int inboxDeliveries() {
        return inboxDeliveries;
    }

    /** A task, a {@link Delivery} or a {@link StoredEntry}: the three things the inbox takes. */
    final void enter(Object work) {
        if (owner.inEventLoop() && batch == null && pushed == null && !drainScheduled) {
            handle(work);
            return;
        }
        push(work);
    }

    final void push(Object work) {
        if (work instanceof Delivery || work instanceof StoredEntry) {
            INBOX_DELIVERIES.getAndAdd(this, 1);
        }
        InboxNode node = new InboxNode(work);
        InboxNode head;
        do {
            head = pushed;
            node.next = head;
        } while (!PUSHED.compareAndSet(this, head, node));
        if (DRAIN_SCHEDULED.compareAndSet(this, false, true)) {
            owner.execute(this::drain);
        }
    }

    private void drain() {
        EventExecutor o = owner;
        if (!o.inEventLoop()) {
            o.execute(this::drain);
            return;
        }
        drainScheduled = false;
        while (true) {
            InboxNode node = batch;
            if (node == null) {
                node = reverse((InboxNode) PUSHED.getAndSet(this, (InboxNode) null));
                if (node == null) {
                    return;
                }
            }
            batch = node.next;
            Object work = node.work;
            if (work instanceof Delivery || work instanceof StoredEntry) {
                INBOX_DELIVERIES.getAndAdd(this, -1);
            }
            handle(work);
            if (owner != o) {
                // a takeover moved the session (batch was updated before handling): the new owner drains the rest
                owner.execute(this::drain);
                return;
            }
        }
    }

    /** Newest-first stack to oldest-first list. */
    private static InboxNode reverse(InboxNode newestFirst) {
        InboxNode oldestFirst = null;
        while (newestFirst != null) {
            InboxNode next = newestFirst.next;
            newestFirst.next = oldestFirst;
            oldestFirst = newestFirst;
            newestFirst = next;
        }
        return oldestFirst;
    }

    /** Handles one piece of work on the owner loop: a {@link Runnable}, a {@link Delivery} or a {@link StoredEntry}. */
    abstract void handle(Object work);
}
