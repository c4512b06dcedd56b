package io.ternmq.broker.sys;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The load figures as Mosquitto's sys_tree.c computes them: new = rate + e^(-t / window) * (old - rate). */
class SysTreeLoadTest {

    @Test
    @DisplayName("one minute at 60/min from 0: the 1-minute figure is 60 (1 - 1/e), the 15-minute one far lower")
    void firstMinute() {
        assertThat(SysTree.decayed(0, 60, 60, 1)).isCloseTo(60 * (1 - Math.exp(-1)), within(1e-9));
        assertThat(SysTree.decayed(0, 60, 60, 15)).isCloseTo(60 * (1 - Math.exp(-1.0 / 15)), within(1e-9));
    }

    @Test
    @DisplayName("a steady rate is approached, never passed; at rate 0 the figure decays towards 0")
    void convergesAndDecays() {
        double avg = 0;
        for (int i = 0; i < 600; i++) {
            avg = SysTree.decayed(avg, 120, 1, 1); // sys_interval 1, 2 messages a second
            assertThat(avg).isLessThanOrEqualTo(120);
        }
        assertThat(avg).isCloseTo(120, within(0.01));
        double decayed = SysTree.decayed(avg, 0, 60, 5);
        assertThat(decayed).isCloseTo(avg * Math.exp(-1.0 / 5), within(1e-9));
    }
}
