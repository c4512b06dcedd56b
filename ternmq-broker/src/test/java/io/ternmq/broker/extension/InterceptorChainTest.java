package io.ternmq.broker.extension;

import io.netty.channel.DefaultEventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.ternmq.codec.MqttProperties;
import io.ternmq.extension.api.Async;
import io.ternmq.extension.api.Fallback;
import io.ternmq.extension.api.PublishInboundInterceptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The chain of PublishInbound interceptors run on a real event loop, as a connection runs it. */
class InterceptorChainTest {
    private final DefaultEventLoop loop = new DefaultEventLoop();
    private final ExtensionStats first = new ExtensionStats("first", 10);
    private final ExtensionStats second = new ExtensionStats("second", 10);

    @AfterEach
    void stop() throws InterruptedException {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
    }

    private InterceptorChain<PublishInboundInterceptor, PublishDecision> chain(PublishInboundInterceptor a,
                                                                              PublishInboundInterceptor b) {
        InterceptorChain.Builder<PublishInboundInterceptor, PublishDecision> builder =
                new InterceptorChain.Builder<>("PublishInbound", (i, d) -> i.onInboundPublish(d.client(), d));
        builder.add(a, first);
        if (b != null) {
            builder.add(b, second);
        }
        return builder.build();
    }

    private PublishDecision decision(EventExecutor on, String payload) {
        return new PublishDecision(new ClientDescription("c", null, 5, "127.0.0.1:1", "l"), "t/1",
                payload.getBytes(StandardCharsets.UTF_8), 1, false, MqttProperties.EMPTY, on);
    }

    /** Runs the chain on the loop and waits for its outcome. */
    private PublishDecision run(InterceptorChain<PublishInboundInterceptor, PublishDecision> chain, String payload)
            throws Exception {
        CompletableFuture<PublishDecision> done = new CompletableFuture<>();
        loop.execute(() -> chain.run(decision(loop, payload), d -> {
            assertThat(loop.inEventLoop()).isTrue();
            done.complete(d);
        }));
        return done.get(5, TimeUnit.SECONDS);
    }

    private static String text(PublishDecision d) {
        return new String(d.payloadBytes(), StandardCharsets.UTF_8);
    }

    @Test
    @DisplayName("no interceptor: no chain at all (the hot path's null check)")
    void emptyIsNull() {
        assertThat(new InterceptorChain.Builder<PublishInboundInterceptor, PublishDecision>("x", (i, d) -> { })
                .build()).isNull();
        assertThat(Interceptors.NONE.publishInbound).isNull();
        assertThat(Interceptors.NONE.connectInbound).isNull();
        assertThat(Interceptors.NONE.lifecycle).isNull();
    }

    @Test
    @DisplayName("each interceptor sees the previous one's changes, in registration order")
    void order() throws Exception {
        PublishDecision d = run(chain(
                (c, o) -> o.payload(ByteBuffer.wrap(("a" + StandardCharsets.UTF_8.decode(o.payload())).getBytes())),
                (c, o) -> o.topic(o.topic() + "/" + StandardCharsets.UTF_8.decode(o.payload()))), "x");
        assertThat(text(d)).isEqualTo("ax");
        assertThat(d.topic()).isEqualTo("t/1/ax");
        assertThat(d.refused()).isFalse();
    }

    @Test
    @DisplayName("the payload an interceptor sees is read-only; the original array is never written")
    void readOnlyPayload() throws Exception {
        byte[] original = "abc".getBytes();
        PublishDecision d = new PublishDecision(null, "t", original, 0, false, MqttProperties.EMPTY, loop);
        assertThat(d.payload().isReadOnly()).isTrue();
        assertThatThrownBy(() -> d.payload().put((byte) 1)).isInstanceOf(ReadOnlyBufferException.class);
        ByteBuffer replacement = ByteBuffer.wrap("xyz".getBytes());
        d.payload(replacement);
        replacement.put(0, (byte) 'q');
        assertThat(new String(d.payloadBytes())).as("a change is copied").isEqualTo("xyz");
        assertThat(new String(original)).isEqualTo("abc");
    }

    @Test
    @DisplayName("runNow: decided at once returns the decision and never calls the continuation; async returns "
            + "null and the continuation gets it later, on the loop")
    void runNow() throws Exception {
        CompletableFuture<Object> sync = new CompletableFuture<>();
        loop.execute(() -> {
            PublishDecision d = chain((c, o) -> o.retain(true), null).runNow(decision(loop, "x"),
                    later -> sync.completeExceptionally(new AssertionError("continuation called")));
            sync.complete(d);
        });
        assertThat(((PublishDecision) sync.get(5, TimeUnit.SECONDS)).retain()).isTrue();

        CompletableFuture<PublishDecision> returned = new CompletableFuture<>();
        CompletableFuture<PublishDecision> later = new CompletableFuture<>();
        loop.execute(() -> returned.complete(chain((c, o) -> {
            Async a = o.async(Duration.ofSeconds(5), Fallback.proceedUnchanged());
            loop.schedule(a::resume, 10, TimeUnit.MILLISECONDS);
        }, null).runNow(decision(loop, "x"), d -> {
            assertThat(loop.inEventLoop()).isTrue();
            later.complete(d);
        })));
        assertThat(returned.get(5, TimeUnit.SECONDS)).isNull();
        assertThat(text(later.get(5, TimeUnit.SECONDS))).isEqualTo("x");
    }

    @Test
    @DisplayName("a refusal ends the chain: later interceptors are not called")
    void refusalStops() throws Exception {
        List<String> called = new ArrayList<>();
        PublishDecision d = run(chain((c, o) -> o.preventDelivery(0x87, "no"), (c, o) -> called.add("second")), "x");
        assertThat(d.refused()).isTrue();
        assertThat(d.refusalCode()).isEqualTo(0x87);
        assertThat(called).isEmpty();
    }

    @Test
    @DisplayName("a throw refuses with 0x80 and is counted for its extension")
    void throwRefuses() throws Exception {
        PublishDecision d = run(chain((c, o) -> {
            throw new IllegalStateException("bug");
        }, null), "x");
        assertThat(d.refusalCode()).isEqualTo(0x80);
        assertThat(first.errors()).isEqualTo(1);
    }

    @Test
    @DisplayName("async: the chain goes on, on the loop, once resumed from another thread, with the changes made")
    void asyncResumed() throws Exception {
        PublishDecision d = run(chain((c, o) -> {
            Async a = o.async(Duration.ofSeconds(5), Fallback.refuse(0x80));
            new Thread(() -> {
                o.payload(ByteBuffer.wrap("late-but-in-time".getBytes()));
                a.resume();
            }).start();
        }, (c, o) -> o.retain(true)), "x");
        assertThat(text(d)).isEqualTo("late-but-in-time");
        assertThat(d.retain()).as("the second interceptor ran after the resume").isTrue();
    }

    @Test
    @DisplayName("async timeout: the declared fallback applies (refuse), counted; a later resume changes nothing")
    void asyncTimeoutRefuses() throws Exception {
        AtomicReference<Async> handle = new AtomicReference<>();
        PublishDecision d = run(chain((c, o) -> handle.set(o.async(Duration.ofMillis(50), Fallback.refuse(0x97))),
                null), "x");
        assertThat(d.refusalCode()).isEqualTo(0x97);
        assertThat(first.timeouts()).isEqualTo(1);
        handle.get().resume(); // too late: nothing happens (no second completion)
    }

    @Test
    @DisplayName("async timeout with proceed: goes on with the values as they were when async() was called")
    void asyncTimeoutProceeds() throws Exception {
        PublishDecision d = run(chain((c, o) -> {
            o.async(Duration.ofMillis(50), Fallback.proceedUnchanged());
            o.payload(ByteBuffer.wrap("changed after async()".getBytes()));
        }, (c, o) -> o.qos(0)), "x");
        assertThat(d.refused()).isFalse();
        assertThat(text(d)).isEqualTo("x");
        assertThat(d.qos()).as("the rest of the chain still runs").isZero();
    }

    @Test
    @DisplayName("a throw after async() applies the declared fallback")
    void throwAfterAsync() throws Exception {
        PublishDecision d = run(chain((c, o) -> {
            o.async(Duration.ofSeconds(5), Fallback.proceedUnchanged());
            throw new IllegalStateException("bug");
        }, null), "x");
        assertThat(d.refused()).isFalse();
        assertThat(text(d)).isEqualTo("x");
        assertThat(first.errors()).isEqualTo(1);
    }

    @Test
    @DisplayName("a call over extension_slow_call_ms is counted as slow")
    void slowCallCounted() throws Exception {
        run(chain((c, o) -> {
            long until = System.nanoTime() + 20_000_000;
            while (System.nanoTime() < until) {
                Thread.onSpinWait(); // the slow interceptor under test, not a wait for a condition
            }
        }, null), "x");
        assertThat(first.slowCalls()).isEqualTo(1);
    }
}
