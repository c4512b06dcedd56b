package io.ternmq.broker.transport;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class IoThreadsDefaultTest {
    @Test
    @DisplayName("io_threads 0: one event loop per core but one, at least one")
    void onePerCoreButOne() {
        assertThat(MqttServer.defaultIoThreads(1)).isEqualTo(1);
        assertThat(MqttServer.defaultIoThreads(2)).isEqualTo(1);
        assertThat(MqttServer.defaultIoThreads(4)).isEqualTo(3);
        assertThat(MqttServer.defaultIoThreads(64)).isEqualTo(63);
    }
}
