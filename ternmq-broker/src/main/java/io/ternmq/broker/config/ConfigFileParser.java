package io.ternmq.broker.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Reads the Mosquitto-style configuration format: one {@code key value} per line, {@code #} comments, blank lines
 * ignored. Every problem is reported as "file:line: key: what is wrong" and stops the broker before it starts.
 */
public final class ConfigFileParser {

    private interface Setting extends BiConsumer<BrokerConfig.Builder, String> {
    }

    private static final Map<String, Setting> SETTINGS = Map.ofEntries(
            Map.entry("data_dir", (b, v) -> b.dataDir(Path.of(v))),
            Map.entry("max_packet_size", (b, v) -> b.maxPacketSize(intIn(v, 2, 268_435_455 + 5))),
            Map.entry("max_inflight_messages", (b, v) -> b.maxInflightMessages(intIn(v, 1, 65_535))),
            Map.entry("max_queued_messages", (b, v) -> b.maxQueuedMessages(intIn(v, 0, Integer.MAX_VALUE))),
            Map.entry("queue_qos0_messages", (b, v) -> b.queueQos0Messages(bool(v))),
            Map.entry("connect_timeout", (b, v) -> b.connectTimeoutSeconds(intIn(v, 1, 3600))),
            Map.entry("allow_zero_length_clientid", (b, v) -> b.allowZeroLengthClientId(bool(v))),
            Map.entry("auto_id_prefix", (b, v) -> b.autoIdPrefix(v)),
            Map.entry("max_connections", (b, v) -> b.maxConnections(intIn(v, -1, Integer.MAX_VALUE))),
            Map.entry("max_subscriptions_per_client",
                    (b, v) -> b.maxSubscriptionsPerClient(intIn(v, -1, Integer.MAX_VALUE))),
            Map.entry("max_keepalive", (b, v) -> b.maxKeepAlive(intIn(v, 1, 65_535))),
            Map.entry("receive_maximum", (b, v) -> b.receiveMaximum(intIn(v, 1, 65_535))),
            Map.entry("max_qos", (b, v) -> b.maxQos(intIn(v, 0, 2))),
            Map.entry("retain_available", (b, v) -> b.retainAvailable(bool(v))),
            Map.entry("wildcard_subscription_available", (b, v) -> b.wildcardSubscriptionAvailable(bool(v))),
            Map.entry("subscription_identifier_available", (b, v) -> b.subscriptionIdentifierAvailable(bool(v))),
            Map.entry("shared_subscription_available", (b, v) -> b.sharedSubscriptionAvailable(bool(v))),
            Map.entry("max_topic_alias", (b, v) -> b.maxTopicAlias(intIn(v, 0, 65_535))),
            Map.entry("max_session_expiry_interval",
                    (b, v) -> b.maxSessionExpiryInterval(longIn(v, 0, 0xFFFF_FFFFL))),
            Map.entry("response_information", (b, v) -> b.responseInformation(v)),
            Map.entry("shared_subscription_strategy", (b, v) -> b.sharedSubscriptionStrategy(
                    oneOf(v, "round_robin", "random", "sticky", "hash_client_id"))),
            Map.entry("storage.type", (b, v) -> b.storageType(oneOf(v, "rocksdb", "memory"))),
            Map.entry("storage.durability", (b, v) -> b.storageDurability(oneOf(v, "fsync", "periodic", "none"))),
            Map.entry("storage.sync_interval_ms", (b, v) -> b.storageSyncIntervalMillis(intIn(v, 1, 60_000))),
            Map.entry("max_queued_bytes", (b, v) -> b.maxQueuedBytes(longIn(v, 0, Long.MAX_VALUE))),
            Map.entry("queue_overflow_policy",
                    (b, v) -> b.queueOverflowPolicy(oneOf(v, "refuse_new", "drop_oldest"))),
            Map.entry("queue_overflow_v3_action", (b, v) -> b.queueOverflowV3Action(oneOf(v, "ack", "disconnect"))),
            Map.entry("retained_max_count", (b, v) -> b.retainedMaxCount(longIn(v, -1, Long.MAX_VALUE))),
            Map.entry("retained_max_bytes", (b, v) -> b.retainedMaxBytes(longIn(v, -1, Long.MAX_VALUE))),
            Map.entry("persistent_client_expiration",
                    (b, v) -> b.persistentClientExpiration(longIn(v, 0, Long.MAX_VALUE / 1000))),
            Map.entry("log_level", (b, v) -> b.logLevel(oneOf(v, "error", "warn", "info", "debug", "trace"))));

    private ConfigFileParser() {
    }

    /** The keys this parser understands, for documentation tests. */
    public static List<String> keys() {
        return SETTINGS.keySet().stream().sorted().toList();
    }

    public static BrokerConfig.Builder parse(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage());
        }
        return parse(file.toString(), lines);
    }

    public static BrokerConfig.Builder parse(String source, List<String> lines) {
        BrokerConfig.Builder builder = BrokerConfig.builder();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int space = indexOfWhitespace(line);
            String key = space < 0 ? line : line.substring(0, space);
            String value = space < 0 ? "" : line.substring(space).strip();
            String where = source + ":" + (i + 1) + ": " + key;
            try {
                if (key.equals("listener")) {
                    listener(builder, value);
                    continue;
                }
                Setting setting = SETTINGS.get(key);
                if (setting == null) {
                    throw new IllegalArgumentException("unknown key");
                }
                if (value.isEmpty()) {
                    throw new IllegalArgumentException("missing value");
                }
                setting.accept(builder, value);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(where + ": " + e.getMessage());
            }
        }
        return builder;
    }

    private static void listener(BrokerConfig.Builder builder, String value) {
        String[] parts = value.split("\\s+");
        if (value.isEmpty() || parts.length > 2) {
            throw new IllegalArgumentException("expected 'listener <port> [<bind address>]'");
        }
        int port = intIn(parts[0], 0, 65_535);
        builder.listener(parts.length == 2 ? parts[1] : "0.0.0.0", port);
    }

    private static int indexOfWhitespace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isWhitespace(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    static int intIn(String v, int min, int max) {
        return (int) longIn(v, min, max);
    }

    static long longIn(String v, long min, long max) {
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            if (v.matches("[+-]?[0-9]+")) {
                // a whole number too large for a long is out of range, not "not a number"
                throw new IllegalArgumentException(v + " is out of range " + min + ".." + max);
            }
            throw new IllegalArgumentException("'" + v + "' is not a whole number");
        }
        if (n < min || n > max) {
            throw new IllegalArgumentException(v + " is out of range " + min + ".." + max);
        }
        return n;
    }

    static boolean bool(String v) {
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("'" + v + "' is not true or false");
        };
    }

    static String oneOf(String v, String... allowed) {
        for (String a : allowed) {
            if (a.equalsIgnoreCase(v)) {
                return a;
            }
        }
        throw new IllegalArgumentException("'" + v + "' is not one of " + String.join(", ", allowed));
    }
}
