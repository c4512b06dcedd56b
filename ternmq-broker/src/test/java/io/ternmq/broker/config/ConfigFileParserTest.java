package io.ternmq.broker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

class ConfigFileParserTest {

    private static BrokerConfig parse(String... lines) {
        return ConfigFileParser.parse("test.conf", List.of(lines)).build();
    }

    private static void assertError(String expectedMessage, String... lines) {
        assertThatThrownBy(() -> parse(lines))
                .isInstanceOf(ConfigException.class)
                .hasMessage(expectedMessage);
    }

    /** How the file writes a setting's enum constant: STICKY as sticky. */
    private static String keyword(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }

    /** A sample value for every key, and how to read it back from the parsed configuration. */
    private record Sample(String value, Function<BrokerConfig, Object> getter, Object expected) {
    }

    private static final Map<String, Sample> SAMPLES = new LinkedHashMap<>();

    static {
        SAMPLES.put("data_dir",
                new Sample("/var/lib/ternmq", c -> c.storage().dataDir(), Path.of("/var/lib/ternmq")));
        SAMPLES.put("extensions_dir",
                new Sample("/opt/ternmq/extensions", c -> c.extensions().dir(), Path.of("/opt/ternmq/extensions")));
        SAMPLES.put("extension_slow_call_ms", new Sample("25", c -> c.extensions().slowCallMillis(), 25));
        SAMPLES.put("max_packet_size", new Sample("65536", c -> c.mqtt().maxPacketSize(), 65536));
        SAMPLES.put("max_inflight_messages", new Sample("5", c -> c.queues().maxInflightMessages(), 5));
        SAMPLES.put("max_queued_messages", new Sample("12345", c -> c.queues().maxQueuedMessages(), 12345));
        SAMPLES.put("queue_qos0_messages", new Sample("true", c -> c.queues().queueQos0Messages(), true));
        SAMPLES.put("connect_timeout", new Sample("30", c -> c.transport().connectTimeoutSeconds(), 30));
        SAMPLES.put("allow_zero_length_clientid",
                new Sample("false", c -> c.sessions().allowZeroLengthClientId(), false));
        SAMPLES.put("auto_id_prefix", new Sample("gen-", c -> c.sessions().autoIdPrefix(), "gen-"));
        SAMPLES.put("max_connections", new Sample("100", c -> c.security().maxConnections(), 100));
        SAMPLES.put("max_subscriptions_per_client",
                new Sample("50", c -> c.mqtt().maxSubscriptionsPerClient(), 50));
        SAMPLES.put("max_keepalive", new Sample("600", c -> c.mqtt().maxKeepAlive(), 600));
        SAMPLES.put("receive_maximum", new Sample("32", c -> c.mqtt().receiveMaximum(), 32));
        SAMPLES.put("max_qos", new Sample("1", c -> c.mqtt().maxQos(), 1));
        SAMPLES.put("retain_available", new Sample("false", c -> c.mqtt().retainAvailable(), false));
        SAMPLES.put("wildcard_subscription_available",
                new Sample("false", c -> c.mqtt().wildcardSubscriptionAvailable(), false));
        SAMPLES.put("subscription_identifier_available",
                new Sample("false", c -> c.mqtt().subscriptionIdentifierAvailable(), false));
        SAMPLES.put("shared_subscription_available",
                new Sample("false", c -> c.mqtt().sharedSubscriptionAvailable(), false));
        SAMPLES.put("max_topic_alias", new Sample("0", c -> c.mqtt().maxTopicAlias(), 0));
        SAMPLES.put("max_session_expiry_interval",
                new Sample("86400", c -> c.sessions().maxSessionExpiryInterval(), 86400L));
        SAMPLES.put("response_information", new Sample("reply/", c -> c.mqtt().responseInformation(), "reply/"));
        SAMPLES.put("shared_subscription_strategy",
                new Sample("sticky", c -> keyword(c.queues().sharedSubscriptionStrategy()), "sticky"));
        SAMPLES.put("storage.type", new Sample("memory", c -> keyword(c.storage().type()), "memory"));
        SAMPLES.put("storage.durability",
                new Sample("periodic", c -> keyword(c.storage().durability()), "periodic"));
        SAMPLES.put("storage.sync_interval_ms",
                new Sample("250", c -> c.storage().syncIntervalMillis(), 250));
        SAMPLES.put("max_queued_bytes", new Sample("1048576", c -> c.queues().maxQueuedBytes(), 1048576L));
        SAMPLES.put("queue_overflow_policy",
                new Sample("drop_oldest", c -> keyword(c.queues().overflowPolicy()), "drop_oldest"));
        SAMPLES.put("queue_overflow_v3_action",
                new Sample("disconnect", c -> keyword(c.queues().overflowV3Action()), "disconnect"));
        SAMPLES.put("retained_max_count", new Sample("5000", c -> c.retained().maxCount(), 5000L));
        SAMPLES.put("retained_max_bytes", new Sample("1000000", c -> c.retained().maxBytes(), 1000000L));
        SAMPLES.put("persistent_client_expiration",
                new Sample("86400", c -> c.sessions().persistentClientExpiration(), 86400L));
        SAMPLES.put("max_topic_length", new Sample("256", c -> c.mqtt().maxTopicLength(), 256));
        SAMPLES.put("max_topic_levels", new Sample("8", c -> c.mqtt().maxTopicLevels(), 8));
        SAMPLES.put("max_publish_rate", new Sample("500", c -> c.mqtt().maxPublishRate(), 500));
        SAMPLES.put("io_threads", new Sample("3", c -> c.transport().ioThreads(), 3));
        SAMPLES.put("log_level", new Sample("debug", c -> keyword(c.logLevel()), "debug"));
        SAMPLES.put("auth_failure_delay", new Sample("500", c -> c.security().authFailureDelayMillis(), 500));
        SAMPLES.put("auth_failure_delay_max",
                new Sample("2000", c -> c.security().authFailureDelayMaxMillis(), 2000));
        SAMPLES.put("max_outbound_buffer", new Sample("65536", c -> c.transport().maxOutboundBuffer(), 65536));
        SAMPLES.put("slow_consumer_policy",
                new Sample("disconnect", c -> keyword(c.transport().slowConsumerPolicy()), "disconnect"));
        SAMPLES.put("slow_consumer_timeout", new Sample("5", c -> c.transport().slowConsumerTimeoutSeconds(), 5));
        // cluster.enabled true needs members and a secret: ClusterConfigTest covers enabled clusters
        SAMPLES.put("cluster.enabled", new Sample("false", c -> c.cluster().enabled(), false));
        SAMPLES.put("cluster.name", new Sample("prod-eu", c -> c.cluster().name(), "prod-eu"));
        SAMPLES.put("cluster.bind", new Sample("10.0.0.5:5800", c -> c.cluster().bind(),
                new ClusterSettings.Address("10.0.0.5", 5800)));
        SAMPLES.put("cluster.members", new Sample("10.0.0.5:5800, 10.0.0.6:5800", c -> c.cluster().members(),
                List.of(new ClusterSettings.Address("10.0.0.5", 5800), new ClusterSettings.Address("10.0.0.6", 5800))));
        SAMPLES.put("cluster.secret", new Sample("0123456789abcdef-x", c -> c.cluster().secret(),
                "0123456789abcdef-x"));
        SAMPLES.put("cluster.min_members", new Sample("2", c -> c.cluster().minMembers(), 2));
        SAMPLES.put("cluster.backup_count", new Sample("2", c -> c.cluster().backupCount(), 2));
        SAMPLES.put("cluster.failure_timeout", new Sample("20", c -> c.cluster().failureTimeoutSeconds(), 20));
        SAMPLES.put("sys_interval", new Sample("1", c -> c.operations().sysIntervalSeconds(), 1));
        SAMPLES.put("shutdown_timeout", new Sample("25", c -> c.operations().shutdownTimeoutSeconds(), 25));
        SAMPLES.put("sparkplug_aware", new Sample("true", c -> c.topics().sparkplugAware(), true));
        SAMPLES.put("sparkplug_ndeath_timestamp",
                new Sample("true", c -> c.topics().sparkplugNdeathTimestamp(), true));
        SAMPLES.put("delayed_publish", new Sample("true", c -> c.topics().delayedPublish(), true));
        SAMPLES.put("max_delayed_messages", new Sample("500", c -> c.topics().maxDelayedMessages(), 500));
        SAMPLES.put("topic_rewrite", new Sample("publish old/# ^old/(.*)$ new/$1", c -> c.topics().rewrites()
                .stream().map(r -> keyword(r.scope()) + " " + r.filter() + " " + r.regex().pattern() + " "
                        + r.replacement()).toList(), List.of("publish old/# ^old/(.*)$ new/$1")));
        SAMPLES.put("auto_subscribe", new Sample("inbox/%c 1", c -> c.topics().autoSubscriptions(),
                List.of(new TopicFeatures.AutoSubscription("inbox/%c", 1))));
    }

    // ------------------------------------------------------------------ keys and defaults

    @Test
    void everyKeyHasASampleHere() {
        // When a key is added to the parser, this fails until the key is covered by the tests below.
        assertThat(SAMPLES.keySet()).containsExactlyInAnyOrderElementsOf(ConfigFileParser.keys());
        assertThat(ConfigFileParser.keys()).isSorted().doesNotHaveDuplicates();
    }

    @Test
    void everyKeyParses() {
        for (Map.Entry<String, Sample> e : SAMPLES.entrySet()) {
            BrokerConfig config = parse(e.getKey() + " " + e.getValue().value());
            assertThat(e.getValue().getter().apply(config)).as(e.getKey()).isEqualTo(e.getValue().expected());
        }
    }

    @Test
    void everyKeyParsesInOneFile() {
        String[] lines = SAMPLES.entrySet().stream().map(e -> e.getKey() + " " + e.getValue().value())
                .toArray(String[]::new);
        BrokerConfig config = parse(lines);
        for (Map.Entry<String, Sample> e : SAMPLES.entrySet()) {
            assertThat(e.getValue().getter().apply(config)).as(e.getKey()).isEqualTo(e.getValue().expected());
        }
    }

    @Test
    void defaultsWhenAbsent() {
        BrokerConfig config = parse();
        BrokerConfig defaults = BrokerConfig.builder().build();
        for (Map.Entry<String, Sample> e : SAMPLES.entrySet()) {
            assertThat(e.getValue().getter().apply(config)).as(e.getKey())
                    .isEqualTo(e.getValue().getter().apply(defaults));
        }
        assertThat(config.transport().listeners()).containsExactly(new ListenerConfig("127.0.0.1", 1883));
        assertThat(config.storage().dataDir()).isEqualTo(Path.of("data"));
        assertThat(config.extensions().dir()).isEqualTo(Path.of("extensions"));
        assertThat(config.extensions().slowCallMillis()).isEqualTo(10);
        assertThat(config.mqtt().maxPacketSize()).isEqualTo(1024 * 1024);
        assertThat(config.queues().maxInflightMessages()).isEqualTo(20);
        assertThat(config.queues().maxQueuedMessages()).isEqualTo(1000);
        assertThat(config.queues().queueQos0Messages()).isFalse();
        assertThat(config.transport().connectTimeoutSeconds()).isEqualTo(10);
        assertThat(config.sessions().allowZeroLengthClientId()).isTrue();
        assertThat(config.sessions().autoIdPrefix()).isEqualTo("auto-");
        assertThat(config.security().maxConnections()).as("no cap").isEqualTo(-1);
        assertThat(config.mqtt().maxSubscriptionsPerClient()).as("no cap").isEqualTo(-1);
        assertThat(config.mqtt().maxKeepAlive()).isEqualTo(65535);
        assertThat(config.mqtt().receiveMaximum()).isEqualTo(100);
        assertThat(config.mqtt().maxQos()).isEqualTo(2);
        assertThat(config.mqtt().retainAvailable()).isTrue();
        assertThat(config.mqtt().wildcardSubscriptionAvailable()).isTrue();
        assertThat(config.mqtt().subscriptionIdentifierAvailable()).isTrue();
        assertThat(config.mqtt().sharedSubscriptionAvailable()).isTrue();
        assertThat(config.mqtt().maxTopicAlias()).isEqualTo(10);
        assertThat(config.sessions().maxSessionExpiryInterval()).isEqualTo(0xFFFFFFFFL);
        assertThat(config.mqtt().responseInformation()).isEmpty();
        assertThat(keyword(config.queues().sharedSubscriptionStrategy())).isEqualTo("round_robin");
        assertThat(keyword(config.logLevel())).isEqualTo("info");
        assertThat(config.operations().sysIntervalSeconds()).as("Mosquitto's default").isEqualTo(10);
        assertThat(config.operations().adminListener()).as("off unless configured").isNull();
    }

    @Test
    void aKeyLeavesTheOthersAtTheirDefaults() {
        BrokerConfig defaults = parse();
        for (Map.Entry<String, Sample> e : SAMPLES.entrySet()) {
            BrokerConfig config = parse(e.getKey() + " " + e.getValue().value());
            for (Map.Entry<String, Sample> other : SAMPLES.entrySet()) {
                if (!other.getKey().equals(e.getKey())) {
                    assertThat(other.getValue().getter().apply(config))
                            .as("%s after setting %s", other.getKey(), e.getKey())
                            .isEqualTo(other.getValue().getter().apply(defaults));
                }
            }
            assertThat(config.transport().listeners()).isEqualTo(defaults.transport().listeners());
        }
    }

    @Test
    void theLastOccurrenceOfAKeyWins() {
        BrokerConfig config = parse("max_inflight_messages 5", "max_inflight_messages 7");
        assertThat(config.queues().maxInflightMessages()).isEqualTo(7);
    }

    // ------------------------------------------------------------------ syntax

    @Test
    void commentsAndBlankLinesAreIgnored() {
        BrokerConfig config = parse(
                "# a comment",
                "",
                "   ",
                "\t",
                "   # an indented comment",
                "#max_inflight_messages 3",
                "max_inflight_messages 4",
                "# listener 1",
                "");
        assertThat(config.queues().maxInflightMessages()).isEqualTo(4);
        assertThat(config.transport().listeners()).containsExactly(new ListenerConfig("127.0.0.1", 1883));
    }

    @Test
    void whitespaceAroundKeyAndValueIsIgnored() {
        BrokerConfig config = parse(
                "  max_inflight_messages    9   ",
                "\tconnect_timeout\t\t15\t",
                "auto_id_prefix \t x- ");
        assertThat(config.queues().maxInflightMessages()).isEqualTo(9);
        assertThat(config.transport().connectTimeoutSeconds()).isEqualTo(15);
        assertThat(config.sessions().autoIdPrefix()).isEqualTo("x-");
    }

    @Test
    void valuesMayContainSpaces() {
        BrokerConfig config = parse("data_dir /srv/tern mq/data", "auto_id_prefix a b");
        assertThat(config.storage().dataDir()).isEqualTo(Path.of("/srv/tern mq/data"));
        assertThat(config.sessions().autoIdPrefix()).isEqualTo("a b");
    }

    @ParameterizedTest
    @CsvSource({"true,true", "false,false", "TRUE,true", "False,false"})
    void booleansIgnoreCase(String value, boolean expected) {
        assertThat(parse("queue_qos0_messages " + value).queues().queueQos0Messages()).isEqualTo(expected);
        assertThat(parse("allow_zero_length_clientid " + value).sessions().allowZeroLengthClientId())
                .isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({"error,error", "warn,warn", "info,info", "debug,debug", "trace,trace", "DEBUG,debug", "Warn,warn"})
    void logLevelsAreNormalizedToLowerCase(String value, String expected) {
        assertThat(keyword(parse("log_level " + value).logLevel())).isEqualTo(expected);
    }

    // key, lowest, highest
    @ParameterizedTest
    @CsvSource({
            "max_packet_size, 2, 268435460",
            "max_inflight_messages, 1, 65535",
            "max_queued_messages, 0, 2147483647",
            "connect_timeout, 1, 3600",
            "max_connections, -1, 2147483647",
            "max_subscriptions_per_client, -1, 2147483647"})
    void numbersAreAcceptedUpToTheirBounds(String key, int lowest, int highest) {
        Function<BrokerConfig, Object> getter = SAMPLES.get(key).getter();
        assertThat(getter.apply(parse(key + " " + lowest))).isEqualTo(lowest);
        assertThat(getter.apply(parse(key + " " + highest))).isEqualTo(highest);
        assertError("test.conf:1: " + key + ": " + (lowest - 1L) + " is out of range " + lowest + ".." + highest,
                key + " " + (lowest - 1L));
        assertError("test.conf:1: " + key + ": " + (highest + 1L) + " is out of range " + lowest + ".." + highest,
                key + " " + (highest + 1L));
    }

    // ------------------------------------------------------------------ listeners

    @Test
    void listenerWithPortOnlyBindsAllInterfaces() {
        assertThat(parse("listener 1883").transport().listeners())
                .containsExactly(new ListenerConfig("0.0.0.0", 1883));
    }

    @Test
    void severalListenersReplaceTheDefaultInOrder() {
        BrokerConfig config = parse(
                "listener 1883",
                "# tls later",
                "listener 8883 127.0.0.1",
                "listener\t1884\t::1",
                "listener 0 localhost");
        assertThat(config.transport().listeners()).containsExactly(
                new ListenerConfig("0.0.0.0", 1883),
                new ListenerConfig("127.0.0.1", 8883),
                new ListenerConfig("::1", 1884),
                new ListenerConfig("localhost", 0));
    }

    @Test
    void listenerPortBounds() {
        assertThat(parse("listener 65535").transport().listeners())
                .containsExactly(new ListenerConfig("0.0.0.0", 65535));
        assertError("test.conf:1: listener: 65536 is out of range 0..65535", "listener 65536");
        assertError("test.conf:1: listener: -1 is out of range 0..65535", "listener -1");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            listener                        | expected 'listener <port> [<bind address>]'
            listener 1883 0.0.0.0 extra     | expected 'listener <port> [<bind address>]'
            listener 0.0.0.0                | '0.0.0.0' is not a whole number
            listener 0.0.0.0 1883           | '0.0.0.0' is not a whole number
            listener mqtt                   | 'mqtt' is not a whole number
            listener 1883.5                 | '1883.5' is not a whole number
            """)
    void badListenerSyntax(String line, String problem) {
        assertError("test.conf:1: listener: " + problem, line);
    }

    // ------------------------------------------------------------------ errors

    @Test
    void unknownKey() {
        assertError("test.conf:3: max_clients: unknown key", "# c", "", "max_clients 10");
        assertError("test.conf:1: Log_Level: unknown key", "Log_Level info");
        assertError("test.conf:1: bogus: unknown key", "bogus");
    }

    @ParameterizedTest
    @ValueSource(strings = {"data_dir", "max_packet_size", "max_inflight_messages", "max_queued_messages",
            "queue_qos0_messages", "connect_timeout", "allow_zero_length_clientid", "auto_id_prefix", "max_connections",
            "max_subscriptions_per_client", "max_keepalive", "receive_maximum", "max_qos", "retain_available",
            "wildcard_subscription_available", "subscription_identifier_available", "shared_subscription_available",
            "max_topic_alias", "max_session_expiry_interval", "response_information", "shared_subscription_strategy",
            "storage.type", "storage.durability", "storage.sync_interval_ms", "max_queued_bytes",
            "queue_overflow_policy", "queue_overflow_v3_action", "retained_max_count", "retained_max_bytes",
            "persistent_client_expiration", "log_level", "max_topic_length", "max_topic_levels", "max_publish_rate", "io_threads",
            "auth_failure_delay",
            "auth_failure_delay_max", "max_outbound_buffer", "slow_consumer_policy", "slow_consumer_timeout",
            "cluster.enabled", "cluster.name", "cluster.bind", "cluster.members", "cluster.secret",
            "cluster.min_members", "cluster.backup_count", "cluster.failure_timeout", "sys_interval", "extensions_dir",
            "extension_slow_call_ms", "shutdown_timeout", "sparkplug_aware", "sparkplug_ndeath_timestamp",
            "delayed_publish", "max_delayed_messages", "topic_rewrite", "auto_subscribe"})
    void missingValue(String key) {
        assertError("test.conf:2: " + key + ": missing value", "log_level info", key);
        assertError("test.conf:2: " + key + ": missing value", "log_level info", "  " + key + " \t ");
    }

    @Test
    void everyKeyIsCoveredByMissingValue() throws Exception {
        ValueSource source = getClass().getDeclaredMethod("missingValue", String.class)
                .getAnnotation(ValueSource.class);
        assertThat(source.strings()).containsExactlyInAnyOrderElementsOf(ConfigFileParser.keys());
    }

    @Test
    void shutdownTimeoutDefaultsToTenSecondsAndTakesOneToAnHour() {
        assertThat(parse("log_level info").operations().shutdownTimeoutSeconds()).isEqualTo(10);
        assertError("test.conf:1: shutdown_timeout: 0 is out of range 1..3600", "shutdown_timeout 0");
        assertError("test.conf:1: shutdown_timeout: 3601 is out of range 1..3600", "shutdown_timeout 3601");
    }

    @ParameterizedTest
    @ValueSource(strings = {"max_packet_size", "max_inflight_messages", "max_queued_messages", "connect_timeout",
            "max_connections", "max_subscriptions_per_client", "shutdown_timeout"})
    void nonNumbers(String key) {
        assertError("test.conf:1: " + key + ": 'ten' is not a whole number", key + " ten");
        assertError("test.conf:1: " + key + ": '1.5' is not a whole number", key + " 1.5");
        assertError("test.conf:1: " + key + ": '1e3' is not a whole number", key + " 1e3");
        assertError("test.conf:1: " + key + ": '0x10' is not a whole number", key + " 0x10");
        assertError("test.conf:1: " + key + ": '10 20' is not a whole number", key + " 10 20");
    }

    @ParameterizedTest
    @ValueSource(strings = {"max_packet_size", "max_inflight_messages", "max_queued_messages", "connect_timeout",
            "max_connections", "max_subscriptions_per_client"})
    void hugeWholeNumbersAreOutOfRangeNotNonNumbers(String key) {
        assertThatThrownBy(() -> parse(key + " 99999999999999999999"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.conf:1: " + key + ": 99999999999999999999 is out of range ");
        assertThatThrownBy(() -> parse(key + " -99999999999999999999"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.conf:1: " + key + ": -99999999999999999999 is out of range ");
        assertThatThrownBy(() -> parse("listener 99999999999999999999"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("test.conf:1: listener: 99999999999999999999 is out of range 0..65535");
    }

    @Test
    void outOfRange() {
        assertError("test.conf:1: max_inflight_messages: 0 is out of range 1..65535", "max_inflight_messages 0");
        assertError("test.conf:1: connect_timeout: 3601 is out of range 1..3600", "connect_timeout 3601");
        assertError("test.conf:1: max_packet_size: 1 is out of range 2..268435460", "max_packet_size 1");
        assertError("test.conf:1: max_queued_messages: -1 is out of range 0..2147483647",
                "max_queued_messages -1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"queue_qos0_messages", "allow_zero_length_clientid"})
    void badBoolean(String key) {
        assertError("test.conf:1: " + key + ": 'yes' is not true or false", key + " yes");
        assertError("test.conf:1: " + key + ": '1' is not true or false", key + " 1");
        assertError("test.conf:1: " + key + ": 'true false' is not true or false", key + " true false");
    }

    @Test
    void badLogLevel() {
        assertError("test.conf:1: log_level: 'verbose' is not one of error, warn, info, debug, trace",
                "log_level verbose");
        assertError("test.conf:1: log_level: 'warning' is not one of error, warn, info, debug, trace",
                "log_level warning");
    }

    // value, seconds
    @ParameterizedTest
    @CsvSource({"0, 0", "45, 45", "+45, 45", "2h, 7200", "3d, 259200", "1w, 604800", "1m, 2592000", "1y, 31536000",
            "0d, 0", "9223372036854775, 9223372036854775", "292471208y, 9223372015488000"})
    @DisplayName("persistent_client_expiration: Mosquitto's h, d, w, m (30 days) and y, or bare seconds")
    void persistentClientExpirationSuffixes(String value, long seconds) {
        assertThat(parse("persistent_client_expiration " + value).sessions().persistentClientExpiration())
                .isEqualTo(seconds);
    }

    @ParameterizedTest
    @ValueSource(strings = {"10x", "h", "1.5d", "2H", "1 d", "ten", "1s", "0x10"})
    @DisplayName("persistent_client_expiration: what is not a duration is refused")
    void persistentClientExpirationNotADuration(String value) {
        assertError("test.conf:1: persistent_client_expiration: '" + value + "' is not a duration: seconds, or a "
                + "whole number followed by h, d, w, m (30 days) or y", "persistent_client_expiration " + value);
    }

    // value, what is wrong
    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            -1                    | -1 is out of range 0..9223372036854775
            9223372036854776      | 9223372036854776 is out of range 0..9223372036854775
            -1h                   | -1h is out of range 0..9223372036854775 seconds
            292471209y            | 292471209y is out of range 0..9223372036854775 seconds
            99999999999999999999m | 99999999999999999999m is out of range 0..9223372036854775 seconds
            """)
    @DisplayName("persistent_client_expiration: a negative or too long duration is refused")
    void persistentClientExpirationOutOfRange(String value, String problem) {
        assertError("test.conf:1: persistent_client_expiration: " + problem, "persistent_client_expiration " + value);
    }

    @Test
    void persistentClientExpirationNeedsAValue() {
        assertError("test.conf:1: persistent_client_expiration: missing value", "persistent_client_expiration");
        assertError("test.conf:1: persistent_client_expiration: missing value", "persistent_client_expiration   ");
    }

    @Test
    void theFirstErrorStopsParsingAndNamesItsLine() {
        assertError("test.conf:4: connect_timeout: 'soon' is not a whole number",
                "listener 1883", "# ok so far", "max_inflight_messages 10", "connect_timeout soon",
                "bogus key");
    }

    // ------------------------------------------------------------------ files

    @Test
    void parsesAFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("ternmq.conf");
        Files.writeString(file, "# TernMQ\r\nlistener 1883\r\n\r\nmax_queued_messages 7\r\n", StandardCharsets.UTF_8);
        BrokerConfig config = ConfigFileParser.parse(file).build();
        assertThat(config.transport().listeners()).containsExactly(new ListenerConfig("0.0.0.0", 1883));
        assertThat(config.queues().maxQueuedMessages()).isEqualTo(7);
    }

    @Test
    void fileErrorsNameTheFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("bad.conf");
        Files.writeString(file, "listener 1883\nmax_inflight_messages many\n", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> ConfigFileParser.parse(file))
                .isInstanceOf(ConfigException.class)
                .hasMessage(file + ":2: max_inflight_messages: 'many' is not a whole number");
    }

    @Test
    void aMissingFileIsAConfigError(@TempDir Path dir) {
        Path file = dir.resolve("missing.conf");
        assertThatThrownBy(() -> ConfigFileParser.parse(file))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ": cannot read");
    }
}
