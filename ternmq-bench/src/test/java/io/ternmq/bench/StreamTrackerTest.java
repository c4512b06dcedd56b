package io.ternmq.bench;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class StreamTrackerTest {

    @Test
    void tellsInOrderGapsLateArrivalsAndDuplicates() {
        StreamTracker t = new StreamTracker();
        assertThat(t.offer(0)).isEqualTo(StreamTracker.IN_ORDER);
        assertThat(t.offer(1)).isEqualTo(StreamTracker.IN_ORDER);
        assertThat(t.offer(4)).isEqualTo(StreamTracker.GAP);
        assertThat(t.gaps()).isEqualTo(2);
        assertThat(t.offer(2)).isEqualTo(StreamTracker.OUT_OF_ORDER);
        assertThat(t.offer(2)).isEqualTo(StreamTracker.DUPLICATE);
        assertThat(t.offer(4)).isEqualTo(StreamTracker.DUPLICATE);
        assertThat(t.offer(3)).isEqualTo(StreamTracker.OUT_OF_ORDER);
        assertThat(t.gaps()).isZero();
        assertThat(t.offer(5)).isEqualTo(StreamTracker.IN_ORDER);
    }

    @Test
    void forgetsOnlyWhatLeftTheWindow() {
        StreamTracker t = new StreamTracker();
        for (long s = 0; s < 3 * StreamTracker.WINDOW; s++) {
            assertThat(t.offer(s)).isEqualTo(StreamTracker.IN_ORDER);
        }
        long top = 3L * StreamTracker.WINDOW - 1;
        assertThat(t.offer(top - StreamTracker.WINDOW + 1)).isEqualTo(StreamTracker.DUPLICATE);
        // older than the window: cannot be told from a late arrival
        assertThat(t.offer(top - StreamTracker.WINDOW)).isEqualTo(StreamTracker.OUT_OF_ORDER);
        assertThat(t.offer(top + 10_000)).isEqualTo(StreamTracker.GAP);
        assertThat(t.offer(top + 1)).isEqualTo(StreamTracker.OUT_OF_ORDER);
    }
}
