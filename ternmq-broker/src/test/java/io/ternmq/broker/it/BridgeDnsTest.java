package io.ternmq.broker.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.ternmq.broker.testing.BrokerProcess;
import io.ternmq.broker.testing.Closing;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.TestBroker;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Issue 15 §2, "DNS is re-resolved on each reconnect": a bridge process whose remote broker's name resolves through a
 * hosts file the test rewrites ({@code -Djdk.net.hosts.file}, no address caching), toward two real brokers listening
 * on one port at two loopback addresses. When the name moves and the first broker goes away, the bridge's next
 * connection goes where the name points now.
 */
class BridgeDnsTest {
    private static final String NAME = "bridge-remote.test";
    @RegisterExtension
    final Closing closing = new Closing();

    /** Points {@link #NAME} at {@code address}, replacing the file whole (a reader never sees half of it). */
    private static void resolveTo(Path hosts, String address) throws Exception {
        Path next = hosts.resolveSibling("hosts.next");
        Files.writeString(next, address + " " + NAME + "\n");
        Files.move(next, hosts, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private boolean firstOpen = true;

    /** The next message: the bridge connects (or reconnects, after its backoff) first, so more than a moment. */
    private static Paho5Client.Received arrival(Paho5Client c) {
        Paho5Client.Received r = c.poll(60_000);
        assertThat(r).as("a message through the bridge within 60 s").isNotNull();
        return r;
    }

    @Test
    @DisplayName("a bridge resolves its remote's name again at each reconnect: after the name moves, it reaches the "
            + "broker at the new address")
    void nameIsResolvedAgainOnReconnect() throws Exception {
        TestBroker first = TestBroker.start();
        closing.add(() -> {
            if (firstOpen) {
                first.close();
            }
        });
        int port = first.port();
        // the second remote on the same port at another loopback address: only a new lookup can lead there
        TestBroker second = closing.add(TestBroker.start(c -> c.clearListeners().listener("127.0.0.2", port)));
        Paho5Client atFirst = closing.add(Paho5Client.connect(first, "reader-first"));
        atFirst.subscribe("up/#", 1);
        Paho5Client atSecond = closing.add(Paho5Client.connect("tcp://127.0.0.2:" + port, "reader-second",
                Paho5Client.options(true)));
        atSecond.subscribe("up/#", 1);

        BrokerProcess bridging = closing.add(BrokerProcess.prepare());
        Path hosts = bridging.workDir().resolve("hosts");
        resolveTo(hosts, "127.0.0.1");
        Files.writeString(bridging.workDir().resolve("ternmq.conf"), String.join("\n",
                "listener 0 127.0.0.1",
                "allow_anonymous true",
                "connection moving",
                "address " + NAME + ":" + port,
                "remote_clientid edge",
                "restart_timeout 1",
                "notifications false",
                "topic up/# out 1",
                ""));
        // no cached lookups, positive or negative: each attempt asks the hosts file
        bridging.jvmOptions("-Djdk.net.hosts.file=" + hosts, "-Dsun.net.inetaddr.ttl=0",
                "-Dsun.net.inetaddr.negative.ttl=0");
        bridging.start("-c", "ternmq.conf");

        try (Paho5Client publisher = Paho5Client.connect(bridging.uri(), "publisher", Paho5Client.options(true))) {
            // queued in the bridge's session until it is connected, then forwarded
            publisher.publish("up/1", "to the first", 1, false).waitForCompletion(10_000);
            Paho5Client.Received r = arrival(atFirst);
            assertThat(r.topic()).isEqualTo("up/1");
            assertThat(r.payload()).isEqualTo("to the first");

            resolveTo(hosts, "127.0.0.2");
            firstOpen = false;
            first.close(); // the bridge loses its connection and reconnects, looking the name up again
            // queued (or in flight, then resent) until the bridge is connected again: only a new lookup reaches
            // the second broker
            publisher.publish("up/2", "to the second", 1, false).waitForCompletion(10_000);
            r = arrival(atSecond);
            assertThat(r.topic()).isEqualTo("up/2");
            assertThat(r.payload()).isEqualTo("to the second");
        }
        assertThat(atSecond.poll(300)).as("only the message published after the move").isNull();
    }
}
