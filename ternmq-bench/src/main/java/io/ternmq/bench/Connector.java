package io.ternmq.bench;

import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Opens many connections at a given rate, with a bound on how many are in progress at once (so the broker's accept
 * backlog never overflows, which would turn into 1 s SYN retransmissions), and waits until each is ready or failed.
 */
final class Connector {
    private final RunContext run;
    private final PrintStream err;

    Connector(RunContext run, PrintStream err) {
        this.run = run;
        this.err = err;
    }

    /**
     * Connects every client, source addresses numbered from {@code firstIndex}.
     *
     * @param everySecond called about once a second while connecting (for progress lines), with the seconds elapsed
     * @return the number of clients that became ready
     */
    int connectAll(List<BenchClient> clients, int firstIndex, Consumer<Double> everySecond) {
        ClientOptions o = run.client;
        AtomicInteger inProgress = new AtomicInteger();
        long start = System.nanoTime();
        long nextReport = start + TimeUnit.SECONDS.toNanos(1);
        int launched = 0;
        int n = clients.size();
        while (launched < n) {
            long now = System.nanoTime();
            long allowed = o.connRate <= 0 ? n : (long) ((now - start) / 1e9 * o.connRate) + 1;
            while (launched < n && launched < allowed && inProgress.get() < o.maxConnecting) {
                BenchClient c = clients.get(launched);
                inProgress.incrementAndGet();
                c.ready.whenComplete((r, e) -> inProgress.decrementAndGet());
                c.connect(run.transport.localAddress(firstIndex + launched));
                launched++;
            }
            if (now >= nextReport) {
                everySecond.accept((now - start) / 1e9);
                nextReport += TimeUnit.SECONDS.toNanos(1);
            }
            LockSupport.parkNanos(500_000);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.connectTimeout);
        int ready = 0;
        for (BenchClient c : clients) {
            while (!c.ready.isDone() && System.nanoTime() < deadline) {
                long now = System.nanoTime();
                if (now >= nextReport) {
                    everySecond.accept((now - start) / 1e9);
                    nextReport += TimeUnit.SECONDS.toNanos(1);
                }
                LockSupport.parkNanos(1_000_000);
            }
            if (c.ready.isDone() && !c.ready.isCompletedExceptionally()) {
                ready++;
            }
        }
        int failed = 0;
        String firstFailure = null;
        for (BenchClient c : clients) {
            if (!c.ready.isDone() || c.ready.isCompletedExceptionally()) {
                failed++;
                if (firstFailure == null) {
                    firstFailure = c.ready.isDone() ? c.clientId + ": " + c.failure() : c.clientId + ": timed out";
                }
            }
        }
        if (failed > 0) {
            err.printf("%d of %d clients failed to connect; first: %s%n", failed, n, firstFailure);
        }
        return ready;
    }
}
