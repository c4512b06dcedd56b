package io.ternmq.broker;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/** SIGHUP reloads, as in Mosquitto: the handler Main installs runs the broker's reload. */
class SighupTest {

    @Test
    @DisplayName("a SIGHUP to the process runs the reload")
    void sighupRunsReload() throws Exception {
        CountDownLatch reloaded = new CountDownLatch(1);
        boolean installed = Main.onSighup(reloaded::countDown);
        assumeThat(installed).as("sun.misc.Signal is available").isTrue();
        // the handler is installed now, so raising HUP in this JVM reaches it instead of stopping the JVM
        Class<?> signal = Class.forName("sun.misc.Signal");
        signal.getMethod("raise", signal).invoke(null, signal.getConstructor(String.class).newInstance("HUP"));
        assertThat(reloaded.await(10, TimeUnit.SECONDS)).isTrue();
    }
}
