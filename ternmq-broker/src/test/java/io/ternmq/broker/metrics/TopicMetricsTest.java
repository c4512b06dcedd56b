package io.ternmq.broker.metrics;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;

import static org.assertj.core.api.Assertions.assertThat;

/** A node's topic metrics made the cluster's registrations. */
class TopicMetricsTest {

    @Test
    @DisplayName("synced with the cluster's registrations: a filter registered at the same time keeps its counts, a "
            + "new or re-registered one counts from zero, a removed one stops; the order is the cluster's")
    void syncedWithTheCluster() {
        TopicMetrics m = new TopicMetrics();
        LinkedHashMap<String, Long> shared = new LinkedHashMap<>();
        shared.put("a/#", 10L);
        m.sync(shared);
        m.received("a/b", 3);
        TopicMetrics.Counts a = m.registered().get(0);
        shared.put("b", 20L);
        m.sync(shared);
        assertThat(m.registered()).extracting(TopicMetrics.Counts::filter).containsExactly("a/#", "b");
        assertThat(m.registered().get(0)).isSameAs(a);
        assertThat(a.messagesIn()).isEqualTo(1);
        assertThat(a.bytesIn()).isEqualTo(3);

        shared.remove("a/#");
        shared.put("a/#", 30L); // removed and registered again (after b)
        m.sync(shared);
        assertThat(m.registered()).extracting(TopicMetrics.Counts::filter).containsExactly("b", "a/#");
        assertThat(m.registered().get(1).messagesIn()).isZero();
        assertThat(m.registered().get(1).registeredAtMillis()).isEqualTo(30);

        m.sync(new LinkedHashMap<>());
        assertThat(m.registered()).isEmpty();
        m.received("a/b", 3); // nothing registered: nothing counted, nothing fails
    }
}
