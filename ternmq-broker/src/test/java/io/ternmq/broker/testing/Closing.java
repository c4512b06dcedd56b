package io.ternmq.broker.testing;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What a test opened (brokers, clients, sockets, processes), closed after each test, the last opened first: a
 * client goes before the broker it talks to. Use it as a field:
 * <pre>
 * &#64;RegisterExtension
 * final Closing closing = new Closing();
 * ...
 * TestBroker broker = closing.add(TestBroker.start());
 * </pre>
 * Every one is closed even if an earlier one fails to close (a leaked broker process would outlive the test); the
 * first failure is thrown after all, with the others suppressed in it.
 */
public final class Closing implements AfterEachCallback {
    private final Deque<AutoCloseable> open = new ArrayDeque<>();

    /** @return {@code c}, to be closed after the test */
    public synchronized <T extends AutoCloseable> T add(T c) {
        open.push(c);
        return c;
    }

    /** Takes back one the test closes itself (or hands on); false if it was not here. */
    public synchronized boolean remove(AutoCloseable c) {
        return open.remove(c);
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        Exception failed = null;
        AutoCloseable c;
        while ((c = next()) != null) {
            try {
                c.close();
            } catch (Exception e) {
                if (failed == null) {
                    failed = e;
                } else {
                    failed.addSuppressed(e);
                }
            }
        }
        if (failed != null) {
            throw failed;
        }
    }

    private synchronized AutoCloseable next() {
        return open.poll();
    }
}
