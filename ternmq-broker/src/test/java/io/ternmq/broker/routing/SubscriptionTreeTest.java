package io.ternmq.broker.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.concurrent.ImmediateEventExecutor;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.store.QueueLimits;
import io.ternmq.broker.message.Subscription;
import io.ternmq.codec.QoS;
import io.ternmq.codec.TopicSyntax;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

class SubscriptionTreeTest {

    private final SubscriptionTree tree = new SubscriptionTree();

    static Session session(String clientId) {
        // routing only needs the session's identity: no host, it never ends here
        return new Session(clientId, 0, ImmediateEventExecutor.INSTANCE, QueueLimits.of(1000),
                new BrokerMetrics(), null, null);
    }

    /** "clientId filter" of every visit, sorted, duplicates kept (a session is visited once per matching filter). */
    static List<String> visits(SubscriptionTree tree, String topic) {
        List<String> out = new ArrayList<>();
        tree.match(topic, (session, sub) -> out.add(session.clientId() + " " + sub.filter()));
        Collections.sort(out);
        return out;
    }

    /** The filters that matched, sorted, duplicates kept. */
    static List<String> matchedFilters(SubscriptionTree tree, String topic) {
        List<String> out = new ArrayList<>();
        tree.match(topic, (session, sub) -> out.add(sub.filter()));
        Collections.sort(out);
        return out;
    }

    /** Split filters and topics, memoized: the randomized tests call the oracle millions of times. */
    private static final Map<String, String[]> LEVELS_OF = new ConcurrentHashMap<>();

    /**
     * A straightforward MQTT matcher straight from the spec (section 4.7), used as the oracle: levels are compared one
     * by one, '+' matches exactly one level (possibly empty), '#' matches the rest including none (so "a/#" matches
     * "a"), and a topic starting with '$' is not matched by a filter whose first level is a wildcard.
     */
    static boolean referenceMatches(String filter, String topic) {
        String[] f = LEVELS_OF.computeIfAbsent(filter, k -> k.split("/", -1));
        String[] t = LEVELS_OF.computeIfAbsent(topic, k -> k.split("/", -1));
        if (topic.startsWith("$") && (f[0].equals("+") || f[0].equals("#"))) {
            return false;
        }
        for (int i = 0; i < f.length; i++) {
            if (f[i].equals("#")) {
                return true;
            }
            if (i >= t.length) {
                return false;
            }
            if (!f[i].equals("+") && !f[i].equals(t[i])) {
                return false;
            }
        }
        return f.length == t.length;
    }

    /**
     * Whether the wildcard tries and the exact maps hold nothing at all: proves unsubscribing pruned every node
     * rather than leaving empty branches behind (which match cannot observe).
     */
    /** True when no node or map is left behind in either index: removals pruned everything. */
    static boolean holdsNothing(SubscriptionTree tree) {
        return indexHoldsNothing(tree, "targets") && indexHoldsNothing(tree, "groups");
    }

    private static boolean indexHoldsNothing(SubscriptionTree tree, String field) {
        try {
            java.lang.reflect.Field f = SubscriptionTree.class.getDeclaredField(field);
            f.setAccessible(true);
            return ((TopicFilterTree<?, ?>) f.get(tree)).isEmpty();
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private void sub(Session s, String filter) {
        tree.subscribe(s, new Subscription(filter, QoS.AT_LEAST_ONCE));
    }

    @Test
    void referenceMatcherAgreesWithTheSpecExamples() {
        // Guard the oracle itself, so that the randomized tests compare against something right.
        assertThat(referenceMatches("sport/tennis/player1/#", "sport/tennis/player1")).isTrue();
        assertThat(referenceMatches("sport/tennis/player1/#", "sport/tennis/player1/ranking/wimbledon")).isTrue();
        assertThat(referenceMatches("sport/#", "sport")).isTrue();
        assertThat(referenceMatches("sport/tennis/+", "sport/tennis/player1/ranking")).isFalse();
        assertThat(referenceMatches("sport/+", "sport")).isFalse();
        assertThat(referenceMatches("sport/+", "sport/")).isTrue();
        assertThat(referenceMatches("+/+", "/finance")).isTrue();
        assertThat(referenceMatches("/+", "/finance")).isTrue();
        assertThat(referenceMatches("+", "/finance")).isFalse();
        assertThat(referenceMatches("#", "$SYS/x")).isFalse();
        assertThat(referenceMatches("$SYS/#", "$SYS/x")).isTrue();
    }

    @Nested
    class Matching {

        // filter, topic, matches
        @ParameterizedTest(name = "[{index}] ''{0}'' vs ''{1}'' -> {2}")
        @CsvSource(delimiter = '|', quoteCharacter = '\'', textBlock = """
                # exact
                a             | a             | true
                a/b/c         | a/b/c         | true
                a/b/c         | a/b/d         | false
                a/b/c         | a/b           | false
                a/b           | a/b/c         | false
                a             | b             | false
                # '+' at every position of a three-level filter
                +/b/c         | a/b/c         | true
                a/+/c         | a/b/c         | true
                a/b/+         | a/b/c         | true
                +/+/c         | a/b/c         | true
                +/b/+         | a/b/c         | true
                a/+/+         | a/b/c         | true
                +/+/+         | a/b/c         | true
                +/b/c         | a/x/c         | false
                a/+/c         | a/b/x         | false
                a/b/+         | x/b/c         | false
                +             | a             | true
                +             | a/b           | false
                +/+           | a             | false
                +/+/+         | a/b           | false
                +/+           | a/b/c         | false
                # '+' matches one (possibly empty) level
                sport/tennis/+ | sport/tennis/player1         | true
                sport/tennis/+ | sport/tennis/player1/ranking | false
                sport/+       | sport         | false
                sport/+       | sport/        | true
                +/+           | /finance      | true
                /+            | /finance      | true
                +             | /finance      | false
                # '#' alone and at the end
                '#'             | a             | true
                '#'             | a/b/c         | true
                '#'             | /             | true
                '#'             | /a            | true
                '#'             | a/            | true
                sport/#       | sport         | true
                sport/#       | sport/        | true
                sport/#       | sport/tennis  | true
                sport/#       | sport/tennis/player1/ranking | true
                sport/#       | sports        | false
                sport/#       | other/sport   | false
                sport/tennis/player1/# | sport/tennis/player1                   | true
                sport/tennis/player1/# | sport/tennis/player1/ranking           | true
                sport/tennis/player1/# | sport/tennis/player1/score/wimbledon   | true
                sport/tennis/player1/# | sport/tennis                           | false
                +/#           | a             | true
                +/#           | a/b/c         | true
                +/#           | /             | true
                a/+/#         | a/b           | true
                a/+/#         | a/b/c/d       | true
                a/+/#         | a             | false
                +/+/#         | a             | false
                # empty levels
                a//b          | a//b          | true
                a//b          | a/b           | false
                a/+/b         | a//b          | true
                a/#           | a//b          | true
                /a            | /a            | true
                /a            | a             | false
                +/a           | /a            | true
                a/            | a/            | true
                a/            | a             | false
                a/+           | a/            | true
                /             | /             | true
                +/+           | /             | true
                +             | /             | false
                //            | //            | true
                +/+/+         | //            | true
                # case sensitivity (4.7.3)
                Sport         | sport         | false
                sport         | Sport         | false
                SPORT/+       | sport/a       | false
                sport/+       | sport/A       | true
                a/B/#         | a/b/c         | false
                # non-ASCII levels compare as strings
                café/+       | café/x       | true
                """)
        void matchesLikeTheSpec(String filter, String topic, boolean expected) {
            sub(session("c"), filter);
            assertThat(referenceMatches(filter, topic)).as("oracle").isEqualTo(expected);
            assertThat(matchedFilters(tree, topic)).isEqualTo(expected ? List.of(filter) : List.of());
        }

        // [MQTT-4.7.2-1] filters starting with a wildcard do not match topics starting with '$'
        @ParameterizedTest(name = "[{index}] ''{0}'' vs ''{1}'' -> {2}")
        @CsvSource(delimiter = '|', quoteCharacter = '\'', textBlock = """
                '#'                  | $SYS/broker/clients | false
                '#'                  | $SYS                | false
                +/broker/clients   | $SYS/broker/clients | false
                +/#                | $SYS/broker/clients | false
                +                  | $SYS                | false
                +/+/+              | $SYS/broker/clients | false
                +                  | $                   | false
                '#'                  | $share/x            | false
                $SYS/#             | $SYS/broker/clients | true
                $SYS/#             | $SYS                | true
                $SYS/+/clients     | $SYS/broker/clients | true
                $SYS/broker/+      | $SYS/broker/clients | true
                $SYS/broker/clients | $SYS/broker/clients | true
                $SYS/broker/#      | $SYS/broker         | true
                $SYS/#             | $sys/broker         | false
                a/#                | a/$SYS              | true
                a/+                | a/$x                | true
                +/$x               | a/$x                | true
                '#'                  | a$/b                | true
                +/b                | a$/b                | true
                """)
        void dollarTopicsAreNotMatchedByLeadingWildcards(String filter, String topic, boolean expected) {
            sub(session("c"), filter);
            assertThat(referenceMatches(filter, topic)).as("oracle").isEqualTo(expected);
            assertThat(matchedFilters(tree, topic)).isEqualTo(expected ? List.of(filter) : List.of());
        }

        @Test
        void aFilterMatchesNothingButWhatItShould() {
            Session s = session("c");
            for (String f : List.of("a/b", "a/+", "a/#", "+/b", "#", "+/+", "a/b/c", "a/b/+", "b/#", "$SYS/#")) {
                sub(s, f);
            }
            assertThat(matchedFilters(tree, "a/b"))
                    .containsExactlyInAnyOrder("a/b", "a/+", "a/#", "+/b", "#", "+/+");
            assertThat(matchedFilters(tree, "a"))
                    .containsExactlyInAnyOrder("a/#", "#");
            assertThat(matchedFilters(tree, "a/b/c"))
                    .containsExactlyInAnyOrder("a/#", "#", "a/b/c", "a/b/+");
            assertThat(matchedFilters(tree, "b"))
                    .containsExactlyInAnyOrder("b/#", "#");
            assertThat(matchedFilters(tree, "$SYS/b"))
                    .containsExactlyInAnyOrder("$SYS/#");
            assertThat(matchedFilters(tree, "c/d/e"))
                    .containsExactlyInAnyOrder("#");
        }
    }

    @Nested
    class SessionsAndFilters {

        @Test
        void overlappingFiltersVisitASessionOncePerMatchingFilter() {
            Session alice = session("alice");
            Session bob = session("bob");
            sub(alice, "a/b");
            sub(alice, "a/+");
            sub(alice, "a/#");
            sub(alice, "#");
            sub(alice, "+/b");
            sub(alice, "x/y");
            sub(bob, "a/b");
            sub(bob, "+/+");

            assertThat(visits(tree, "a/b")).containsExactly(
                    "alice #", "alice +/b", "alice a/#", "alice a/+", "alice a/b", "bob +/+", "bob a/b");
            assertThat(visits(tree, "a")).containsExactly("alice #", "alice a/#");
            assertThat(visits(tree, "x/y")).containsExactly("alice #", "alice x/y", "bob +/+");
        }

        @Test
        void manySessionsOnOneFilterAreAllVisited() {
            for (int i = 0; i < 100; i++) {
                sub(session("c" + i), "a/+/c");
                sub(session("e" + i), "a/b/c");
            }
            assertThat(visits(tree, "a/b/c")).hasSize(200);
            assertThat(tree.size()).isEqualTo(200);
        }

        @Test
        void theVisitorReceivesTheSubscriptionWithItsOptions() {
            Session s = session("c");
            Subscription exact = new Subscription("a/b", QoS.EXACTLY_ONCE, true, true, 2, 7);
            Subscription wild = new Subscription("a/+", QoS.AT_MOST_ONCE, false, false, 1, 9);
            tree.subscribe(s, exact);
            tree.subscribe(s, wild);
            List<Subscription> seen = new ArrayList<>();
            tree.match("a/b", (session, sub) -> {
                assertThat(session).isSameAs(s);
                seen.add(sub);
            });
            assertThat(seen).containsExactlyInAnyOrder(exact, wild);
        }

        @ParameterizedTest
        @ValueSource(strings = {"a/b", "a/+", "a/#", "#", "+", "+/+/c/#"})
        void resubscribingReplacesTheSubscription(String filter) {
            Session s = session("c");
            assertThat(tree.subscribe(s, new Subscription(filter, QoS.AT_MOST_ONCE))).isTrue();
            Subscription second = new Subscription(filter, QoS.EXACTLY_ONCE, true, false, 0, 42);
            assertThat(tree.subscribe(s, second)).isFalse();
            assertThat(tree.size()).isEqualTo(1);

            String topic = filter.replace("#", "x").replace("+", "y");
            List<Subscription> seen = new ArrayList<>();
            tree.match(topic, (session, sub) -> seen.add(sub));
            assertThat(seen).containsExactly(second);
        }

        @ParameterizedTest
        @ValueSource(strings = {"a/b", "a/+", "a/#", "#", "+", "+/+/c/#", "a/b/c/d/e/+", "$SYS/#", "a//+", "/#"})
        void unsubscribeRemovesAndPrunes(String filter) throws Exception {
            Session s = session("c");
            String topic = filter.replace("#", "x").replace("+", "y");
            sub(s, filter);
            assertThat(matchedFilters(tree, topic)).containsExactly(filter);
            assertThat(tree.size()).isEqualTo(1);

            assertThat(tree.unsubscribe(s, filter)).isTrue();
            assertThat(tree.size()).isZero();
            assertThat(matchedFilters(tree, topic)).isEmpty();
            assertThat(holdsNothing(tree)).as("pruned").isTrue();

            assertThat(tree.unsubscribe(s, filter)).as("second unsubscribe").isFalse();
            assertThat(tree.size()).isZero();
        }

        @Test
        void unsubscribeKeepsOtherSessionsAndDeeperOrShallowerFilters() throws Exception {
            Session a = session("a");
            Session b = session("b");
            sub(a, "x/+");
            sub(b, "x/+");
            sub(a, "x/+/z/#");
            sub(a, "x/y");
            sub(b, "x/y");
            assertThat(tree.size()).isEqualTo(5);

            assertThat(tree.unsubscribe(a, "x/+")).isTrue();
            assertThat(visits(tree, "x/y")).containsExactly("a x/y", "b x/+", "b x/y");
            assertThat(visits(tree, "x/y/z")).containsExactly("a x/+/z/#");

            assertThat(tree.unsubscribe(a, "x/+/z/#")).isTrue();
            assertThat(visits(tree, "x/y/z")).isEmpty();
            assertThat(visits(tree, "x/y")).containsExactly("a x/y", "b x/+", "b x/y");

            // unsubscribing a filter the session does not hold, or a prefix of a held one, changes nothing
            assertThat(tree.unsubscribe(a, "x/+")).isFalse();
            assertThat(tree.unsubscribe(b, "x")).isFalse();
            assertThat(tree.unsubscribe(b, "x/#")).isFalse();
            assertThat(tree.unsubscribe(b, "x/+/z")).isFalse();
            assertThat(tree.unsubscribe(b, "nothing/+")).isFalse();
            assertThat(tree.size()).isEqualTo(3);

            assertThat(tree.unsubscribe(b, "x/+")).isTrue();
            assertThat(tree.unsubscribe(a, "x/y")).isTrue();
            assertThat(tree.unsubscribe(b, "x/y")).isTrue();
            assertThat(tree.size()).isZero();
            assertThat(holdsNothing(tree)).isTrue();
        }

        @Test
        void pruningAShallowFilterKeepsADeeperOneOnTheSamePath() {
            Session s = session("c");
            sub(s, "a/+");
            sub(s, "a/+/c/+");
            assertThat(tree.unsubscribe(s, "a/+")).isTrue();
            assertThat(matchedFilters(tree, "a/b")).isEmpty();
            assertThat(matchedFilters(tree, "a/b/c/d")).containsExactly("a/+/c/+");
            sub(s, "a/+");
            assertThat(matchedFilters(tree, "a/b")).containsExactly("a/+");
        }

        @Test
        void subscribeReportsWhetherTheFilterWasNew() {
            Session a = session("a");
            Session b = session("b");
            assertThat(tree.subscribe(a, new Subscription("t", QoS.AT_MOST_ONCE))).isTrue();
            assertThat(tree.subscribe(b, new Subscription("t", QoS.AT_MOST_ONCE))).isTrue();
            assertThat(tree.subscribe(a, new Subscription("t", QoS.AT_LEAST_ONCE))).isFalse();
            assertThat(tree.subscribe(a, new Subscription("t/#", QoS.AT_MOST_ONCE))).isTrue();
            assertThat(tree.subscribe(a, new Subscription("t/#", QoS.AT_MOST_ONCE))).isFalse();
            assertThat(tree.size()).isEqualTo(3);
        }

        @Test
        void anEmptyTreeMatchesNothing() {
            assertThat(visits(tree, "a")).isEmpty();
            assertThat(visits(tree, "$SYS/x")).isEmpty();
            assertThat(visits(tree, "/")).isEmpty();
            assertThat(tree.size()).isZero();
        }
    }

    // ------------------------------------------------------------------ randomized

    private static final String[] LEVELS = {"a", "b", "c", "A", "", "$s", "sport"};

    private static String randomLevel(Random rnd) {
        return LEVELS[rnd.nextInt(LEVELS.length)];
    }

    static String randomTopic(Random rnd) {
        int depth = 1 + rnd.nextInt(5);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < depth; i++) {
            if (i > 0) {
                sb.append('/');
            }
            sb.append(randomLevel(rnd));
        }
        if (sb.length() == 0) {
            sb.append('/'); // a topic name is never empty
        }
        return sb.toString();
    }

    static String randomFilter(Random rnd) {
        int depth = 1 + rnd.nextInt(5);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < depth; i++) {
            if (i > 0) {
                sb.append('/');
            }
            boolean last = i == depth - 1;
            int r = rnd.nextInt(10);
            if (last && r < 2) {
                sb.append('#');
            } else if (r < 5) {
                sb.append('+');
            } else {
                sb.append(randomLevel(rnd));
            }
        }
        if (sb.length() == 0) {
            sb.append('/');
        }
        return sb.toString();
    }

    /** Expected visits for a topic given (session, filter) pairs, in the format of {@link #visits}. */
    private static List<String> expectedVisits(Map<String, List<String>> filtersBySession, String topic) {
        List<String> out = new ArrayList<>();
        filtersBySession.forEach((clientId, filters) -> {
            for (String f : filters) {
                if (referenceMatches(f, topic)) {
                    out.add(clientId + " " + f);
                }
            }
        });
        Collections.sort(out);
        return out;
    }

    @Test
    void randomizedAgainstTheReferenceMatcher() throws Exception {
        Random rnd = new Random(0x7e2a_5eedL);
        List<Session> sessions = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            sessions.add(session("s" + i));
        }
        // clientId -> distinct filters it holds
        Map<String, List<String>> held = new HashMap<>();
        for (int i = 0; i < 4000; i++) {
            Session s = sessions.get(rnd.nextInt(sessions.size()));
            String f = randomFilter(rnd);
            List<String> fs = held.computeIfAbsent(s.clientId(), k -> new ArrayList<>());
            boolean isNew = !fs.contains(f);
            if (isNew) {
                fs.add(f);
            }
            assertThat(tree.subscribe(s, new Subscription(f, QoS.AT_MOST_ONCE))).isEqualTo(isNew);
        }
        long expectedSize = held.values().stream().mapToLong(List::size).sum();
        assertThat(tree.size()).isEqualTo(expectedSize);

        List<String> topics = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            topics.add(randomTopic(rnd));
        }
        int nonEmpty = 0;
        for (String t : topics) {
            List<String> expected = expectedVisits(held, t);
            assertThat(visits(tree, t)).as("topic '%s'", t).isEqualTo(expected);
            if (!expected.isEmpty()) {
                nonEmpty++;
            }
        }
        assertThat(nonEmpty).as("the random data exercises matches").isGreaterThan(1000);

        // unsubscribe about half, in random order, and compare again
        Map<String, Session> byId = new HashMap<>();
        sessions.forEach(s -> byId.put(s.clientId(), s));
        for (Map.Entry<String, List<String>> e : held.entrySet()) {
            List<String> fs = e.getValue();
            Collections.shuffle(fs, rnd);
            int drop = fs.size() / 2;
            for (int i = 0; i < drop; i++) {
                assertThat(tree.unsubscribe(byId.get(e.getKey()), fs.remove(fs.size() - 1))).isTrue();
            }
        }
        expectedSize = held.values().stream().mapToLong(List::size).sum();
        assertThat(tree.size()).isEqualTo(expectedSize);
        for (String t : topics) {
            assertThat(visits(tree, t)).as("topic '%s' after unsubscribes", t).isEqualTo(expectedVisits(held, t));
        }

        // and the rest: everything must be gone, trie pruned to the root
        for (Map.Entry<String, List<String>> e : held.entrySet()) {
            for (String f : e.getValue()) {
                assertThat(tree.unsubscribe(byId.get(e.getKey()), f)).isTrue();
            }
        }
        assertThat(tree.size()).isZero();
        assertThat(holdsNothing(tree)).isTrue();
        for (String t : topics) {
            assertThat(visits(tree, t)).isEmpty();
        }
    }

    // ------------------------------------------------------------------ concurrency

    @Test
    void concurrentSubscribeUnsubscribeAndMatch() throws Exception {
        int writers = 4;
        int readers = 4;
        int rounds = 1000;
        // Filters shared by all writers, so that they contend on the same exact-map entries and trie nodes, and
        // so that pruning by one writer races with subscribing on the same path by another.
        List<String> filters = List.of("a/b/c", "a/b", "a/+/c", "a/#", "+/b/#", "#", "a/b/c/d/+", "x/+/z", "x/y/z",
                "$SYS/+", "a/+/+/d/#");
        List<String> topics = List.of("a/b/c", "a/b", "a", "x/y/z", "a/b/c/d/e", "$SYS/x", "a/q/r/d");

        Session[] sessions = new Session[writers];
        for (int w = 0; w < writers; w++) {
            sessions[w] = session("w" + w);
        }
        CountDownLatch start = new CountDownLatch(1);
        AtomicBoolean writing = new AtomicBoolean(true);
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Thread> writerThreads = new ArrayList<>();
        List<Thread> readerThreads = new ArrayList<>();

        for (int w = 0; w < writers; w++) {
            Session s = sessions[w];
            boolean keepsWildcards = w % 2 == 0;
            writerThreads.add(new Thread(() -> {
                try {
                    start.await();
                    for (int r = 0; r < rounds; r++) {
                        for (String f : filters) {
                            if (!tree.subscribe(s, new Subscription(f, QoS.AT_MOST_ONCE))) {
                                throw new AssertionError("subscribe " + s.clientId() + " " + f + " was not new");
                            }
                        }
                        for (String f : filters) {
                            if (!tree.unsubscribe(s, f)) {
                                throw new AssertionError("unsubscribe " + s.clientId() + " " + f + " found nothing");
                            }
                        }
                    }
                    // end state: even writers keep every filter, odd ones keep the wildcard-free ones only
                    for (String f : filters) {
                        if (keepsWildcards || !TopicSyntax.hasWildcard(f)) {
                            tree.subscribe(s, new Subscription(f, QoS.AT_MOST_ONCE));
                        }
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            }, "writer-" + w));
        }
        for (int r = 0; r < readers; r++) {
            readerThreads.add(new Thread(() -> {
                try {
                    start.await();
                    int iterations = 0;
                    // at least a fixed number of passes, and keep going while writers run
                    while (iterations < 2000 || writing.get()) {
                        String topic = topics.get(iterations % topics.size());
                        tree.match(topic, (session, sub) -> {
                            if (!referenceMatches(sub.filter(), topic)) {
                                throw new AssertionError(sub.filter() + " visited for " + topic);
                            }
                        });
                        iterations++;
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            }, "reader-" + r));
        }
        writerThreads.forEach(Thread::start);
        readerThreads.forEach(Thread::start);
        start.countDown();
        for (Thread t : writerThreads) {
            t.join();
        }
        writing.set(false);
        for (Thread t : readerThreads) {
            t.join();
        }
        assertThat(failures).isEmpty();

        Map<String, List<String>> expected = new HashMap<>();
        for (int w = 0; w < writers; w++) {
            String id = "w" + w;
            List<String> fs = new ArrayList<>();
            for (String f : filters) {
                if (w % 2 == 0 || !TopicSyntax.hasWildcard(f)) {
                    fs.add(f);
                }
            }
            expected.put(id, fs);
        }
        assertThat(tree.size()).isEqualTo(expected.values().stream().mapToLong(List::size).sum());
        for (String t : topics) {
            assertThat(visits(tree, t)).as(t).isEqualTo(expectedVisits(expected, t));
        }

        for (int w = 0; w < writers; w++) {
            for (String f : expected.get("w" + w)) {
                assertThat(tree.unsubscribe(sessions[w], f)).isTrue();
            }
        }
        assertThat(tree.size()).isZero();
        assertThat(holdsNothing(tree)).isTrue();
    }

    @Test
    @DisplayName("forEachFilter (the admin API's topics) counts this node's sessions only: another node's proxy "
            + "subscription is not a subscriber here, a shared group counts once if a session here is a member")
    void forEachFilterCountsThisNodesSessions() {
        DeliveryTarget otherNode = new LocalRoutesTest.Target("$node/n2", true);
        tree.subscribe(session("a"), new Subscription("x/y", QoS.AT_LEAST_ONCE));
        tree.subscribe(otherNode, new Subscription("x/y", QoS.AT_LEAST_ONCE));
        tree.subscribe(otherNode, new Subscription("only/there/#", QoS.AT_LEAST_ONCE));
        tree.subscribe(session("a"), new Subscription("$share/g/jobs/+", QoS.AT_LEAST_ONCE));
        tree.subscribe(session("b"), new Subscription("$share/g/jobs/+", QoS.AT_LEAST_ONCE));
        tree.subscribe(otherNode, new Subscription("$share/h/jobs/+", QoS.AT_LEAST_ONCE));
        Map<String, Integer> counted = new java.util.TreeMap<>();
        tree.forEachFilter(counted::put);
        assertThat(counted).isEqualTo(Map.of("x/y", 1, "jobs/+", 1));
    }
}
