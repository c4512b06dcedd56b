package io.ternmq.broker.session;

import io.netty.channel.DefaultEventLoop;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.store.QueueLimits;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The session inbox: work from any thread runs on the owner loop, once each, in each submitter's order. */
class SessionInboxTest {
    private final DefaultEventLoop owner = new DefaultEventLoop();

    @AfterEach
    void stop() {
        owner.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    @DisplayName("four threads and the owner itself submit 100,000 tasks each: all run on the owner, in order per thread")
    void concurrentSubmitters() throws Exception {
        Session session = new Session("inbox", 0, owner, QueueLimits.of(1000), new BrokerMetrics(), null, null);
        int producers = 5;
        int perProducer = 100_000;
        List<List<Integer>> seen = new ArrayList<>(); // touched only on the owner loop
        for (int p = 0; p < producers; p++) {
            seen.add(new ArrayList<>(perProducer));
        }
        boolean[] offLoop = new boolean[1];
        CountDownLatch done = new CountDownLatch(producers);
        for (int p = 0; p < producers; p++) {
            int producer = p;
            Runnable submitAll = () -> {
                for (int i = 0; i < perProducer; i++) {
                    int seq = i;
                    session.submit((Runnable) () -> {
                        offLoop[0] |= !owner.inEventLoop();
                        seen.get(producer).add(seq);
                    });
                }
                done.countDown();
            };
            if (p == 0) {
                owner.execute(submitAll); // the owner's own submissions may run inline
            } else {
                new Thread(submitAll, "producer-" + p).start();
            }
        }
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        // a last task behind everything else: once it ran, everything before it did
        CountDownLatch drained = new CountDownLatch(1);
        session.submit((Runnable) drained::countDown);
        assertThat(drained.await(30, TimeUnit.SECONDS)).isTrue();
        owner.submit(() -> {
            assertThat(offLoop[0]).isFalse();
            for (List<Integer> s : seen) {
                assertThat(s).hasSize(perProducer);
                for (int i = 0; i < perProducer; i++) {
                    if (s.get(i) != i) {
                        throw new AssertionError("out of order at " + i + ": " + s.get(i));
                    }
                }
            }
        }).get(30, TimeUnit.SECONDS);
    }
}
