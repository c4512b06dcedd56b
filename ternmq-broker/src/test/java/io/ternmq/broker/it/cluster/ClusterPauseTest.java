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

    /**
     * Until node 2, resumed, stopped serving, merged back into the cluster, was restarted on its data and serves again
     * (its log since {@code from}).
     */
    private static void awaitRestarted(int from) {
        cluster.awaitCondition("the resumed node to merge back, restart on its data and serve again",
                Duration.ofSeconds(120), () -> {
                    String log = cluster.node(2).logText().substring(from);
                    int notServing = log.indexOf("cluster: not serving");
                    int restarted = log.indexOf("Restarted on its data after merging back into the cluster");
                    return notServing >= 0 && restarted > notServing;
                });
    }

    @Test
    @DisplayName("a paused node resumed after its death was declared serves nobody until it rejoined; the client id "
            + "that moved is served by one node; messages published meanwhile reach it; it catches up with the "
            + "retained messages set while it was away")
    void pausedNodeServesNobodyUntilRejoined() throws Exception {
        Paho5Client old = Paho5Client.connect(cluster.node(2).uri(), "pause-client", Paho5Client.options(true));
        int[] before = {cluster.node(0).logText().length(), cluster.node(1).logText().length()};
        signal("STOP", cluster.node(2));
        try {
            cluster.awaitCondition("nodes 0 and 1 to declare node 2 dead", Duration.ofSeconds(40),
                    () -> cluster.node(0).logText().substring(before[0]).contains("left (2 members)")
                            && cluster.node(1).logText().substring(before[1]).contains("left (2 members)"));
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
                awaitRestarted(logBefore);
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

    @Test
    @DisplayName("a paused node adopts nobody's session while it sees too few members; once back it drops its copies "
            + "of the sessions adopted meanwhile, and a client of it that comes back to it finds its session with "
            + "every message published while it was away, once each, in order")
    void pausedNodesSessionsAreReconciledWhenItRejoins() throws Exception {
        org.eclipse.paho.mqttv5.client.MqttConnectionOptions persistent = Paho5Client.options(false);
        persistent.setSessionExpiryInterval(600L);
        org.eclipse.paho.mqttv5.client.MqttConnectionOptions first = Paho5Client.options(true);
        first.setSessionExpiryInterval(600L);
        try (Paho5Client p = Paho5Client.connect(cluster.node(2).uri(), "pause-p", first);
             Paho5Client q = Paho5Client.connect(cluster.node(0).uri(), "pause-q", first)) {
            p.subscribe("pausep/#", 1);
            q.subscribe("pauseq/#", 1);
            p.disconnect();
            q.disconnect();
        }
        int[] before = {cluster.node(0).logText().length(), cluster.node(1).logText().length(),
                cluster.node(2).logText().length()};
        signal("STOP", cluster.node(2));
        try {
            cluster.awaitCondition("nodes 0 and 1 to declare node 2 dead and adopt its session",
                    Duration.ofSeconds(60), () -> {
                        String log0 = cluster.node(0).logText().substring(before[0]);
                        String log1 = cluster.node(1).logText().substring(before[1]);
                        return log0.contains("left (2 members)") && log1.contains("left (2 members)")
                                && (log0 + log1).contains("adopted the session of client 'pause-p'");
                    });
            try (Paho5Client pub = Paho5Client.connect(cluster.node(1).uri(), "pause-pub2",
                    Paho5Client.options(true))) {
                for (int i = 0; i < 10; i++) {
                    pub.publish("pausep/" + i, "m" + i, 1, false);
                }
                signal("CONT", cluster.node(2));
                awaitRestarted(before[2]);
                String log2 = cluster.node(2).logText().substring(before[2]);
                assertThat(log2).as("node 2, alone, adopted nothing").doesNotContain("adopted the session");
                for (int i = 10; i < 20; i++) {
                    pub.publish("pausep/" + i, "m" + i, 1, false);
                }
            }
            Paho5Client back = null;
            try {
                back = Paho5Client.connect(cluster.node(2).uri(), "pause-p", persistent);
                assertThat(back.connectToken().getSessionPresent()).as("session present; " + cluster.logs())
                        .isTrue();
                for (int i = 0; i < 20; i++) {
                    Paho5Client.Received r = back.poll(10_000);
                    assertThat(r).as("message " + i + " at the client back on node 2; " + cluster.logs())
                            .isNotNull();
                    assertThat(r.payload()).as(cluster.logs()).isEqualTo("m" + i);
                }
                assertThat(back.poll(1_000)).as("nothing twice").isNull();
            } finally {
                if (back != null) {
                    back.close();
                }
            }
            try (Paho5Client q = Paho5Client.connect(cluster.node(0).uri(), "pause-q", persistent)) {
                assertThat(q.connectToken().getSessionPresent()).as("node 0 kept its own session").isTrue();
            }
        } finally {
            signal("CONT", cluster.node(2));
        }
    }
}
