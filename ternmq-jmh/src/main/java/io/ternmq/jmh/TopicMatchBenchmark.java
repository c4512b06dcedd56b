package io.ternmq.jmh;

import io.netty.util.concurrent.ImmediateEventExecutor;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.routing.DeliveryTarget;
import io.ternmq.broker.routing.SubscriptionTree;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.store.QueueLimits;
import io.ternmq.broker.message.Subscription;
import io.ternmq.codec.QoS;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.util.concurrent.TimeUnit;

/**
 * {@link SubscriptionTree#match} and subscribe/unsubscribe on a tree holding 1,000,000 subscriptions, shaped like an
 * IoT deployment:
 * <ul>
 *   <li>900,000 exact filters {@code site/{n}/device/{m}/temp} (n &lt; 1000, m &lt; 900), one device each;</li>
 *   <li>90,000 per-site dashboards {@code site/{n}/+/{m}/#} (n &lt; 1000, m &lt; 90);</li>
 *   <li>1,000 fleet-wide monitors {@code site/+/device/{m}/temp} (m &lt; 100, ten sessions each);</li>
 *   <li>9,000 deep filters {@code a/b/c/d/e/f/g/{k}/+/#} (k &lt; 9000).</li>
 * </ul>
 * Subscriptions are spread over a pool of 10,000 sessions, as many devices share few connections in a benchmark but
 * a session object per subscription would measure the allocator rather than the tree.
 *
 * <p>Run: {@code java -jar ternmq-jmh/target/ternmq-jmh.jar TopicMatch}
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms4g", "-Xmx4g"})
@State(Scope.Benchmark)
public class TopicMatchBenchmark {

    static final int SITES = 1000;
    static final int DEVICES = 900;
    static final int DASHBOARD_DEVICES = 90;
    static final int MONITORED_DEVICES = 100;
    static final int MONITORS_PER_DEVICE = 10;
    static final int DEEP = 9000;
    static final int SESSIONS = 10_000;
    static final int CHURN_FILTERS = 1024;

    /** Only its exact filter matches: m = 800 is beyond every wildcard range. */
    static final String EXACT_TOPIC = "site/500/device/800/temp";
    /** Its exact filter, its site dashboard and ten fleet monitors: 12 visits. */
    static final String WILDCARD_TOPIC = "site/42/device/7/temp";
    /** A near miss that walks the exact map and the trie's "site" branch without a match. */
    static final String NO_MATCH_TOPIC = "site/500/device/800/humidity";
    /** Matched only by a/b/c/d/e/f/g/17/+/#: ten levels deep. */
    static final String DEEP_TOPIC = "a/b/c/d/e/f/g/17/x/y";

    SubscriptionTree tree;
    Session[] sessions;
    Subscription[] exactChurn;
    Subscription[] wildcardChurn;
    int churnIndex;

    /** Counts visits without allocating: match results are consumed through the count. */
    static final class CountingVisitor implements SubscriptionTree.MatchVisitor {
        int visits;

        @Override
        public void visit(DeliveryTarget target, Subscription subscription) {
            visits++;
        }
    }

    final CountingVisitor counter = new CountingVisitor();

    @Setup(Level.Trial)
    public void setUp() {
        tree = new SubscriptionTree();
        BrokerMetrics metrics = new BrokerMetrics();
        QueueLimits limits = QueueLimits.of(1000);
        sessions = new Session[SESSIONS];
        for (int i = 0; i < SESSIONS; i++) {
            sessions[i] = new Session("client-" + i, Session.NEVER_EXPIRES, ImmediateEventExecutor.INSTANCE,
                    limits, metrics, null, null);
        }
        int s = 0;
        for (int n = 0; n < SITES; n++) {
            for (int m = 0; m < DEVICES; m++) {
                subscribe(s++, "site/" + n + "/device/" + m + "/temp", QoS.AT_LEAST_ONCE);
            }
        }
        for (int n = 0; n < SITES; n++) {
            for (int m = 0; m < DASHBOARD_DEVICES; m++) {
                subscribe(s++, "site/" + n + "/+/" + m + "/#", QoS.AT_MOST_ONCE);
            }
        }
        for (int m = 0; m < MONITORED_DEVICES; m++) {
            String filter = "site/+/device/" + m + "/temp";
            for (int k = 0; k < MONITORS_PER_DEVICE; k++) {
                subscribe(s++, filter, QoS.AT_LEAST_ONCE);
            }
        }
        for (int k = 0; k < DEEP; k++) {
            subscribe(s++, "a/b/c/d/e/f/g/" + k + "/+/#", QoS.EXACTLY_ONCE);
        }
        check(tree.size() == 1_000_000, "size " + tree.size());
        check(visits(EXACT_TOPIC) == 1, EXACT_TOPIC);
        check(visits(WILDCARD_TOPIC) == 1 + 1 + MONITORS_PER_DEVICE, WILDCARD_TOPIC);
        check(visits(NO_MATCH_TOPIC) == 0, NO_MATCH_TOPIC);
        check(visits(DEEP_TOPIC) == 1, DEEP_TOPIC);

        exactChurn = new Subscription[CHURN_FILTERS];
        wildcardChurn = new Subscription[CHURN_FILTERS];
        for (int i = 0; i < CHURN_FILTERS; i++) {
            exactChurn[i] = new Subscription("site/" + i + "/device/new/temp", QoS.AT_LEAST_ONCE);
            wildcardChurn[i] = new Subscription("site/" + i + "/+/new/#", QoS.AT_LEAST_ONCE);
        }
    }

    private void subscribe(int index, String filter, QoS qos) {
        tree.subscribe(sessions[index % SESSIONS], new Subscription(filter, qos));
    }

    private int visits(String topic) {
        counter.visits = 0;
        tree.match(topic, counter);
        return counter.visits;
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("benchmark data is not as designed: " + what);
        }
    }

    /** (a) an exact topic with one subscriber. */
    @Benchmark
    public int matchExactOneSubscriber() {
        return visits(EXACT_TOPIC);
    }

    /** (b) a topic matched by an exact filter and several wildcard filters (12 visits). */
    @Benchmark
    public int matchSeveralWildcards() {
        return visits(WILDCARD_TOPIC);
    }

    /** (c) a topic nobody subscribed to. */
    @Benchmark
    public int matchNothing() {
        return visits(NO_MATCH_TOPIC);
    }

    /** A ten-level topic matched by one deep wildcard filter among 9,000 siblings. */
    @Benchmark
    public int matchDeepWildcard() {
        return visits(DEEP_TOPIC);
    }

    /** Subscribe then unsubscribe a filter without wildcards (the hash map path). */
    @Benchmark
    public void subscribeUnsubscribeExact(Blackhole bh) {
        Subscription sub = exactChurn[churnIndex++ & (CHURN_FILTERS - 1)];
        Session session = sessions[0];
        bh.consume(tree.subscribe(session, sub));
        bh.consume(tree.unsubscribe(session, sub.filter()));
    }

    /** Subscribe then unsubscribe a wildcard filter (the trie path, with node creation and pruning). */
    @Benchmark
    public void subscribeUnsubscribeWildcard(Blackhole bh) {
        Subscription sub = wildcardChurn[churnIndex++ & (CHURN_FILTERS - 1)];
        Session session = sessions[0];
        bh.consume(tree.subscribe(session, sub));
        bh.consume(tree.unsubscribe(session, sub.filter()));
    }
}
