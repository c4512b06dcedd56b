package io.ternmq.broker.it.cluster;

import io.ternmq.broker.testing.Paho5Client;
import org.eclipse.paho.mqttv5.common.packet.MqttReturnCode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node paused (SIGSTOP) past {@code cluster.failure_timeout} and resumed (SIGCONT), with {@code cluster.min_members
 * 2}: the others serve on without it; once resumed it serves nobody until it is a member again (its client
 * disconnected with 0x9C Use another server), so a client id that moved meanwhile is served by one node only; once
 * back, it loads the retained messages set while it was away.
 */
class ClusterPauseTest {
    private static ClusterHarness cluster;

    @BeforeAll
    static void startCluster() {
        cluster = ClusterHarness.start(3, "cluster.min_members 2");
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            signal("CONT", cluster.node(2));
            cluster.close();
        }
    }

    private static void signal(String signal, ClusterHarness.Node node) throws Exception {
        assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(node.process().pid())).start().waitFor())
                .isZero();
    }

    @Test
    @DisplayName("a paused node resumed after its death was declared serves nobody until it rejoined; the client id "
            + "that moved is served by one node; messages published meanwhile reach it; it catches up with the "
            + "retained messages set while it was away")
    void pausedNodeServesNobodyUntilRejoined() throws Exception {
        Paho5Client old = Paho5Client.connect(cluster.node(2).uri(), "pause-client", Paho5Client.options(true));
        signal("STOP", cluster.node(2));
        try {
            cluster.awaitCondition("nodes 0 and 1 to declare node 2 dead", Duration.ofSeconds(40),
                    () -> cluster.node(0).logText().contains("left (2 members)")
                            && cluster.node(1).logText().contains("left (2 members)"));
            try (Paho5Client moved = Paho5Client.connect(cluster.node(0).uri(), "pause-client",
                    Paho5Client.options(true)); Paho5Client pub = Paho5Client.connect(cluster.node(1).uri(),
                    "pause-pub", Paho5Client.options(true))) {
                moved.subscribe("pause/#", 1);
                // a retained message set while node 2 is away (nobody waits for it)
                pub.publish("paused/retained", "set while node 2 was away", 1, true);
                int logBefore = cluster.node(2).logText().length();
                signal("CONT", cluster.node(2));
                cluster.awaitCondition("the resumed node to stop serving and its client to be disconnected",
                        Duration.ofSeconds(60), () -> !old.isConnected());
                if (old.disconnected() != null) {
                    assertThat(old.disconnected().getReturnCode()).as("DISCONNECT Use another server")
                            .isEqualTo(MqttReturnCode.RETURN_CODE_USE_ANOTHER_SERVER);
                }
                for (int i = 0; i < 20; i++) {
                    pub.publish("pause/" + i, "p" + i, 1, false);
                }
                for (int i = 0; i < 20; i++) {
                    Paho5Client.Received r = moved.poll(5_000);
                    assertThat(r).as("message " + i + " at the client on node 0; " + cluster.logs()).isNotNull();
                    assertThat(r.payload()).isEqualTo("p" + i);
                }
                cluster.awaitCondition("the resumed node to rejoin and serve again", Duration.ofSeconds(90),
                        () -> {
                            String log = cluster.node(2).logText().substring(logBefore);
                            int notServing = log.indexOf("cluster: not serving");
                            return notServing >= 0 && log.indexOf("cluster: serving", notServing) >= 0;
                        });
                assertThat(moved.isConnected()).as("the client that moved stays, on node 0 only").isTrue();
                int[] attempt = new int[1];
                cluster.awaitCondition("node 2 to have the retained message set while it was away",
                        Duration.ofSeconds(40), () -> {
                            try (Paho5Client c = Paho5Client.connect(cluster.node(2).uri(),
                                    "pause-ret-" + attempt[0]++, Paho5Client.options(true))) {
                                c.subscribe("paused/retained", 1);
                                Paho5Client.Received r = c.poll(500);
                                return r != null && r.payload().equals("set while node 2 was away");
                            }
                        });
                try (Paho5Client back = Paho5Client.connect(cluster.node(2).uri(), "pause-new",
                        Paho5Client.options(true))) {
                    back.subscribe("pause/after", 1);
                    pub.publish("pause/after", "after", 1, false);
                    assertThat(back.poll(5_000)).as("the rejoined node routes again; " + cluster.logs()).isNotNull();
                }
            }
        } finally {
            signal("CONT", cluster.node(2));
            old.close();
        }
    }
}
