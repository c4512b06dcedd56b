package io.ternmq.broker.trace;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What a trace keeps: bounded whatever the traffic, only while it runs, only what it follows. */
class TracesTest {
    private final Traces traces = new Traces();

    @Test
    @DisplayName("no trace: the hooks see an empty array and record nothing")
    void nothingActive() {
        assertThat(traces.active()).isEmpty();
        Trace t = traces.start(Trace.Kind.CLIENT_ID, "a", false, 60, System.currentTimeMillis());
        assertThat(traces.active()).containsExactly(t);
        traces.stop(t.id());
        assertThat(traces.active()).isEmpty();
        Traces.publish(new Trace[] {t}, true, "a", "127.0.0.1:1", "x", 0, false, new byte[1]);
        assertThat(t.recorded()).isZero();
    }

    @Test
    @DisplayName("the ring keeps the last 10,000 events; payloads only if asked, cut at 1 KiB")
    void bounded() {
        Trace t = traces.start(Trace.Kind.CLIENT_ID, "a", true, 60, System.currentTimeMillis());
        Trace[] active = traces.active();
        byte[] big = new byte[5000];
        for (int i = 0; i < Trace.MAX_EVENTS + 5; i++) {
            Traces.publish(active, true, "a", "127.0.0.1:1", "t/" + i, 1, false, big);
        }
        assertThat(t.recorded()).isEqualTo(Trace.MAX_EVENTS + 5);
        List<TraceEvent> kept = t.eventsAfter(0, Integer.MAX_VALUE);
        assertThat(kept).hasSize(Trace.MAX_EVENTS);
        assertThat(kept.get(0).seq()).isEqualTo(6);
        assertThat(kept.get(0).topic()).isEqualTo("t/5");
        assertThat(kept.get(0).payload()).hasSize(Trace.MAX_PAYLOAD_BYTES);
        assertThat(kept.get(0).bytes()).isEqualTo(5000);
        assertThat(t.eventsAfter(Trace.MAX_EVENTS + 3, 10)).extracting(TraceEvent::seq)
                .containsExactly((long) Trace.MAX_EVENTS + 4, (long) Trace.MAX_EVENTS + 5);

        Trace quiet = traces.start(Trace.Kind.CLIENT_ID, "a", false, 60, System.currentTimeMillis());
        Traces.publish(traces.active(), true, "a", "127.0.0.1:1", "t", 1, false, big);
        assertThat(quiet.eventsAfter(0, 1).get(0).payload()).isNull();
    }

    @Test
    @DisplayName("each kind follows its own: a client id, an address, a topic filter (no connects)")
    void matching() {
        long now = System.currentTimeMillis();
        Trace byId = traces.start(Trace.Kind.CLIENT_ID, "dev/1", false, 60, now);
        Trace byIp = traces.start(Trace.Kind.IP, "::1", false, 60, now);
        Trace byTopic = traces.start(Trace.Kind.TOPIC, "home/+/temp", false, 60, now);
        Trace[] active = traces.active();
        Traces.connected(active, "dev/1", "10.0.0.1:5000", null);
        Traces.connected(active, "dev/2", "[::1]:6000", null);
        Traces.publish(active, true, "dev/3", "10.0.0.3:1", "home/kitchen/temp", 0, false, null);
        Traces.publish(active, true, "dev/3", "10.0.0.3:1", "home/kitchen/light", 0, false, null);
        Traces.subscribe(active, "dev/4", "10.0.0.4:1", List.of("home/# 1"));
        Traces.subscribe(active, "dev/4", "10.0.0.4:1", List.of("office/# 1"));
        assertThat(byId.eventsAfter(0, 10)).extracting(TraceEvent::type).containsExactly("connect");
        assertThat(byIp.eventsAfter(0, 10)).extracting(TraceEvent::clientId).containsExactly("dev/2");
        assertThat(byTopic.eventsAfter(0, 10)).extracting(TraceEvent::type).containsExactly("publish_in",
                "subscribe");
    }

    @Test
    @DisplayName("a trace past its end records nothing, even before it is stopped")
    void endsOnTime() {
        Trace t = traces.start(Trace.Kind.CLIENT_ID, "a", false, 1, System.currentTimeMillis() - 5000);
        Traces.connected(traces.active(), "a", "127.0.0.1:1", null);
        assertThat(t.recorded()).isZero();
    }

    @Test
    @DisplayName("in a cluster a node keeps the cluster's traces: new ones recorded under the same id, those gone "
            + "stopped and forgotten, those kept keep what they recorded")
    void syncedWithTheCluster() {
        long now = System.currentTimeMillis();
        TraceSpec a = new TraceSpec("aaaa", Trace.Kind.CLIENT_ID, "c", false, now, now + 60_000);
        TraceSpec b = new TraceSpec("bbbb", Trace.Kind.TOPIC, "t/#", false, now, now + 60_000);
        traces.sync(List.of(a));
        Trace kept = traces.get("aaaa");
        assertThat(kept.spec()).isEqualTo(a);
        Traces.connected(traces.active(), "c", "10.0.0.1:1", null);
        traces.sync(List.of(a, b));
        assertThat(traces.get("aaaa")).isSameAs(kept);
        assertThat(kept.recorded()).isEqualTo(1);
        assertThat(traces.active()).extracting(Trace::id).containsExactly("aaaa", "bbbb");
        assertThat(traces.adopt(b)).isSameAs(traces.get("bbbb"));
        traces.sync(List.of(b));
        assertThat(traces.get("aaaa")).isNull();
        assertThat(kept.stopped()).isTrue();
        assertThat(traces.active()).extracting(Trace::id).containsExactly("bbbb");
        TraceSpec ended = new TraceSpec("cccc", Trace.Kind.IP, "10.0.0.1", false, now - 10_000, now - 5_000);
        traces.sync(List.of(b, ended));
        assertThat(traces.get("cccc").stopped()).as("its time is up").isTrue();
        Traces.connected(traces.active(), "c", "10.0.0.1:1", null);
        assertThat(traces.get("cccc").recorded()).isZero();
    }
}
