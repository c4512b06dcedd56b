package io.ternmq.bench;

import io.ternmq.broker.Broker;
import io.ternmq.broker.config.BrokerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs the bench tool once, tiny, against an in-process broker: it must connect, move every message and count it.
 * Speed is never asserted here.
 */
@Timeout(120)
class BenchSmokeTest {
    @TempDir
    static Path dataDir;
    static Broker broker;

    @BeforeAll
    static void start() throws Exception {
        // a listener given explicitly refuses anonymous clients unless told otherwise (as Mosquitto 2 does)
        broker = Broker.start(BrokerConfig.builder().listener("127.0.0.1", 0, l -> l.allowAnonymous(true))
                .listener("127.0.0.1", 0, l -> l.allowAnonymous(true).webSocket(true))
                .listener("127.0.0.1", 0, l -> l.allowAnonymous(true))
                .dataDir(dataDir).build());
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private String[] common(String... args) {
        String[] base = {"-p", Integer.toString(broker.port()), "--threads", "1", "--quiet"};
        String[] all = new String[args.length + base.length];
        System.arraycopy(args, 0, all, 0, args.length);
        System.arraycopy(base, 0, all, args.length, base.length);
        return all;
    }

    @Test
    void pairsAtQos1DeliversEverything() {
        BenchMain.Result r = BenchMain.execute(common("pairs", "-c", "2", "-q", "1", "-d", "2", "-r", "200"));
        assertThat(r.exitCode()).isZero();
        assertThat(r.fields()).containsEntry("scenario", "pairs").containsEntry("ok", true);
        assertThat(r.getLong("sent")).isPositive();
        assertThat(r.getLong("received")).isEqualTo(r.getLong("sent"));
        assertThat(r.getLong("expected")).isEqualTo(r.getLong("sent"));
        assertThat(r.getLong("lost")).isZero();
        assertThat(r.getLong("duplicated")).isZero();
        assertThat(r.getLong("acked")).isEqualTo(r.getLong("sent"));
        assertThat(r.getLong("latency_samples")).isEqualTo(r.getLong("sent"));
    }

    @Test
    void fanoutAtQos2WithTheCodecDecoderAndMqtt5() {
        BenchMain.Result r = BenchMain.execute(common("fanout", "-c", "3", "-q", "2", "-n", "100", "-r", "200",
                "-V", "5", "--codec-decode"));
        assertThat(r.exitCode()).isZero();
        assertThat(r.getLong("sent")).isEqualTo(100);
        assertThat(r.getLong("received")).isEqualTo(300);
        assertThat(r.getLong("lost")).isZero();
    }

    @Test
    void pairsOverWebSocket() {
        String[] args = common("pairs", "-c", "2", "-q", "1", "-d", "2", "-r", "200", "--transport", "ws");
        args[java.util.List.of(args).indexOf("-p") + 1] = Integer.toString(broker.addresses().get(1).getPort());
        BenchMain.Result r = BenchMain.execute(args);
        assertThat(r.exitCode()).isZero();
        assertThat(r.getLong("sent")).isPositive();
        assertThat(r.getLong("received")).isEqualTo(r.getLong("sent"));
        assertThat(r.getLong("lost")).isZero();
    }

    @Test
    void standaloneSubStopsAtItsCount() throws Exception {
        // a standalone sub with --count stops once it has them all (bench/bridge.sh times a drain so), even with no
        // --duration: its rate runs from the first to the last of them
        java.util.concurrent.CompletableFuture<BenchMain.Result> sub = java.util.concurrent.CompletableFuture
                .supplyAsync(() -> BenchMain.execute(common("sub", "-q", "1", "--filter", "count/#", "-n", "300")));
        // the subscriber's SUBACK: until then a publish would reach nobody
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> broker.router().subscriptions().size() > 0);
        BenchMain.Result pub = BenchMain.execute(common("pub", "-q", "1", "-n", "300", "-r", "1000",
                "-t", "count/0"));
        assertThat(pub.getLong("acked")).isEqualTo(300);
        BenchMain.Result r = sub.get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(r.exitCode()).isZero();
        assertThat(r.getLong("received")).isEqualTo(300);
        assertThat(r.getLong("lost")).isZero();
        assertThat(r.getLong("out_of_order")).isZero();
        assertThat(((Number) r.fields().get("recv_rate")).doubleValue()).isPositive();
    }

    @Test
    void connHoldsFiftyConnections() {
        BenchMain.Result r = BenchMain.execute(common("conn", "-c", "50", "-d", "1", "--settle", "0"));
        assertThat(r.exitCode()).isZero();
        assertThat(r.getLong("connected")).isEqualTo(50);
        assertThat(r.getLong("failed")).isZero();
    }

    @Test
    void connReadsTheBrokersRssAgainWhenAsked() {
        long self = ProcessHandle.current().pid(); // this JVM runs the broker under test
        BenchMain.Result r = BenchMain.execute(common("conn", "-c", "20", "-d", "1", "--settle", "0", "--no-jmx",
                "--broker-pid", Long.toString(self), "--rss-at", "0.5,1"));
        assertThat(r.exitCode()).isZero();
        assertThat(r.getLong("rss_at_0_5_kib")).isPositive();
        assertThat(r.getLong("rss_at_1_kib")).isPositive();
        assertThat(r.fields()).containsKey("rss_per_conn_1_b");
        assertThat(BenchMain.execute(common("conn", "-c", "1", "-d", "1", "--broker-pid", Long.toString(self),
                "--rss-at", "2")).exitCode()).isEqualTo(2);
    }

    @Test
    void subscribersConnectWhereSubHostAndSubPortSay() throws Exception {
        // the third listener of the same broker: messages still meet, through another port
        int subscriberPort = broker.addresses().get(2).getPort();
        BenchMain.Result r = BenchMain.execute(common("pairs", "-c", "2", "-q", "1", "-n", "50", "-r", "200",
                "--sub-host", "127.0.0.1", "--sub-port", Integer.toString(subscriberPort)));
        assertThat(r.exitCode()).isZero();
        assertThat(r.fields()).containsEntry("sub_port", subscriberPort);
        assertThat(r.getLong("received")).isEqualTo(100);

        // a broker of its own for the subscribers (no cluster between them): nothing can reach them
        try (Broker other = Broker.start(BrokerConfig.builder().listener("127.0.0.1", 0, l -> l.allowAnonymous(true))
                .dataDir(dataDir.resolve("other")).build())) {
            BenchMain.Result apart = BenchMain.execute(common("pairs", "-c", "2", "-q", "0", "-n", "20", "-r", "200",
                    "--drain", "1", "--sub-port", Integer.toString(other.port())));
            assertThat(apart.getLong("sent")).isEqualTo(40);
            assertThat(apart.getLong("received")).isZero();
            assertThat(apart.getLong("lost")).isEqualTo(40);
        }
    }
}
