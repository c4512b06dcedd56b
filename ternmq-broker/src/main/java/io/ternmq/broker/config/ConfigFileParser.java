package io.ternmq.broker.config;


import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;

/**
 * Reads the Mosquitto-style configuration format: one {@code key value} per line, {@code #} comments, blank lines
 * ignored. Every problem is reported as "file:line: key: what is wrong" and stops the broker before it starts.
 * <p>
 * Sections work like Mosquitto's with {@code per_listener_settings true}: a {@code listener} line starts a listener,
 * and the per-listener keys ({@link #listenerKeys()}) that follow it apply to it alone. Per-listener keys before the
 * first {@code listener} line are defaults for every listener (and for the default listener when there is none).
 * Global keys apply to the whole broker wherever they appear; {@code max_connections} is global before the first
 * listener and per listener after it.
 */
public final class ConfigFileParser {

    private interface Setting extends BiConsumer<BrokerConfig.Builder, String> {
    }

    private interface ListenerSetting extends BiConsumer<ListenerSettings, String> {
    }

    /** Prefix of the options passed to the listener's plugins, like Mosquitto's. */
    public static final String PLUGIN_OPTION_PREFIX = "plugin_opt_";

    private static final Map<String, ListenerSetting> LISTENER_SETTINGS = Map.ofEntries(
            Map.entry("allow_anonymous", (l, v) -> l.allowAnonymous(bool(v))),
            Map.entry("password_file", (l, v) -> l.passwordFile(Path.of(v))),
            Map.entry("acl_file", (l, v) -> l.aclFile(Path.of(v))),
            Map.entry("plugin", (l, v) -> l.plugin(name(v))),
            Map.entry("max_connections", (l, v) -> l.maxConnections(intIn(v, -1, Integer.MAX_VALUE))),
            Map.entry("connection_rate_per_address", (l, v) -> l.connectionRatePerAddress(intIn(v, 0, 1_000_000))),
            Map.entry("certfile", (l, v) -> l.certFile(Path.of(v))),
            Map.entry("keyfile", (l, v) -> l.keyFile(Path.of(v))),
            Map.entry("keystore", (l, v) -> l.keystore(Path.of(v), l.keystorePassword)),
            Map.entry("keystore_password", (l, v) -> l.keystorePassword(v)),
            Map.entry("cafile", (l, v) -> l.caFile(Path.of(v))),
            Map.entry("crlfile", (l, v) -> l.crlFile(Path.of(v))),
            Map.entry("require_certificate", (l, v) -> l.requireCertificate(
                    switch (oneOf(v, "true", "false", "optional")) {
                        case "true" -> TlsSettings.ClientCertificates.REQUIRED;
                        case "optional" -> TlsSettings.ClientCertificates.OPTIONAL;
                        default -> TlsSettings.ClientCertificates.NONE;
                    })),
            Map.entry("use_identity_as_username", (l, v) -> l.useIdentityAsUsername(bool(v))),
            Map.entry("use_subject_as_username", (l, v) -> l.useSubjectAsUsername(bool(v))),
            Map.entry("certificate_identity",
                    (l, v) -> l.certificateIdentity(TlsSettings.CertificateIdentity.of(oneOf(v, "cn", "san")))),
            Map.entry("tls_version", (l, v) -> l.minTlsVersion(switch (oneOf(v, "tlsv1.2", "tlsv1.3")) {
                case "tlsv1.3" -> TlsSettings.Version.TLS_1_3;
                default -> TlsSettings.Version.TLS_1_2;
            })),
            Map.entry("ciphers", (l, v) -> l.ciphers(list(v))),
            Map.entry("ciphers_tls1.3", (l, v) -> l.ciphersTls13(list(v))),
            Map.entry("tls_provider", (l, v) -> l.tlsProvider(oneOf(v, TlsSettings.Provider.class))),
            Map.entry("protocol", (l, v) -> l.protocol(v)),
            Map.entry("websocket_path", (l, v) -> l.webSocketPath(v)),
            // not list(): IPv6 blocks hold ':'
            Map.entry("websocket_trusted_proxies", (l, v) -> l.webSocketTrustedProxies(
                    Arrays.stream(v.split("[,\\s]+")).filter(x -> !x.isEmpty()).toList())),
            Map.entry("metrics_anonymous", (l, v) -> l.metricsAnonymous(bool(v))),
            Map.entry("admin_readonly_users", (l, v) -> l.readonlyUsers(
                    Arrays.stream(v.split("[,\\s]+")).filter(x -> !x.isEmpty()).toList())),
            Map.entry("enable_proxy_protocol", (l, v) -> l.proxyProtocol(intIn(v, 1, 2))),
            Map.entry("proxy_protocol_v2_require_tls", (l, v) -> l.proxyProtocolRequiresTls(bool(v))));

    private static final Map<String, Setting> SETTINGS = Map.ofEntries(
            Map.entry("data_dir", (b, v) -> b.dataDir(Path.of(v))),
            Map.entry("sys_interval", (b, v) -> b.sysIntervalSeconds(intIn(v, 0, 65_535))),
            Map.entry("extensions_dir", (b, v) -> b.extensionsDir(Path.of(v))),
            Map.entry("extension_slow_call_ms", (b, v) -> b.extensionSlowCallMillis(intIn(v, 0, 60_000))),
            Map.entry("shutdown_timeout", (b, v) -> b.shutdownTimeoutSeconds(intIn(v, 1, 3600))),
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
            Map.entry("shared_subscription_strategy",
                    (b, v) -> b.sharedSubscriptionStrategy(oneOf(v, SharedSubscriptionStrategy.class))),
            Map.entry("storage.type", (b, v) -> b.storageType(oneOf(v, StorageSettings.Type.class))),
            Map.entry("storage.durability", (b, v) -> b.storageDurability(oneOf(v, Durability.class))),
            Map.entry("storage.sync_interval_ms", (b, v) -> b.storageSyncIntervalMillis(intIn(v, 1, 60_000))),
            Map.entry("max_queued_bytes", (b, v) -> b.maxQueuedBytes(longIn(v, 0, Long.MAX_VALUE))),
            Map.entry("queue_overflow_policy",
                    (b, v) -> b.queueOverflowPolicy(oneOf(v, QueueSettings.OverflowPolicy.class))),
            Map.entry("queue_overflow_v3_action",
                    (b, v) -> b.queueOverflowV3Action(oneOf(v, QueueSettings.V3OverflowAction.class))),
            Map.entry("retained_max_count", (b, v) -> b.retainedMaxCount(longIn(v, -1, Long.MAX_VALUE))),
            Map.entry("retained_max_bytes", (b, v) -> b.retainedMaxBytes(longIn(v, -1, Long.MAX_VALUE))),
            Map.entry("persistent_client_expiration",
                    (b, v) -> b.persistentClientExpiration(seconds(v, Long.MAX_VALUE / 1000))),
            Map.entry("max_topic_length", (b, v) -> b.maxTopicLength(intIn(v, 1, 65_535))),
            Map.entry("max_topic_levels", (b, v) -> b.maxTopicLevels(intIn(v, 1, 65_535))),
            Map.entry("max_publish_rate", (b, v) -> b.maxPublishRate(intIn(v, 0, Integer.MAX_VALUE))),
            Map.entry("io_threads", (b, v) -> b.ioThreads(intIn(v, 0, 1024))),
            Map.entry("log_level", (b, v) -> b.logLevel(oneOf(v, LogLevel.class))),
            Map.entry("auth_failure_delay", (b, v) -> b.authFailureDelayMillis(intIn(v, 0, 60_000))),
            Map.entry("auth_failure_delay_max", (b, v) -> b.authFailureDelayMaxMillis(intIn(v, 0, 60_000))),
            Map.entry("max_outbound_buffer", (b, v) -> b.maxOutboundBuffer(intIn(v, 1024, 1 << 30))),
            Map.entry("slow_consumer_policy",
                    (b, v) -> b.slowConsumerPolicy(oneOf(v, TransportSettings.SlowConsumerPolicy.class))),
            Map.entry("slow_consumer_timeout", (b, v) -> b.slowConsumerTimeoutSeconds(intIn(v, 0, 86_400))),
            Map.entry("cluster.enabled", (b, v) -> b.clusterEnabled(bool(v))),
            Map.entry("cluster.name", (b, v) -> b.clusterName(clusterName(v))),
            Map.entry("cluster.bind", (b, v) -> b.clusterBind(ClusterSettings.Address.parse(v))),
            Map.entry("cluster.members", (b, v) -> b.clusterMembers(Arrays.stream(v.split("[,\\s]+"))
                    .filter(x -> !x.isEmpty()).map(ClusterSettings.Address::parse).toList())),
            Map.entry("cluster.secret", (b, v) -> b.clusterSecret(secret(v))),
            Map.entry("cluster.min_members", (b, v) -> b.clusterMinMembers(intIn(v, 1, 1000))),
            Map.entry("cluster.backup_count", (b, v) -> b.clusterBackupCount(intIn(v, 0, 6))),
            Map.entry("cluster.failure_timeout", (b, v) -> b.clusterFailureTimeoutSeconds(intIn(v, 2, 3600))),
            Map.entry("sparkplug_aware", (b, v) -> b.sparkplugAware(bool(v))),
            Map.entry("sparkplug_ndeath_timestamp", (b, v) -> b.sparkplugNdeathTimestamp(bool(v))),
            Map.entry("delayed_publish", (b, v) -> b.delayedPublish(bool(v))),
            Map.entry("max_delayed_messages", (b, v) -> b.maxDelayedMessages(intIn(v, 1, 10_000_000))),
            Map.entry("topic_rewrite", (b, v) -> b.topicRewrite(rewriteRule(v))),
            Map.entry("auto_subscribe", (b, v) -> b.autoSubscribe(autoSubscription(v))));

    private ConfigFileParser() {
    }

    /** The global keys this parser understands, for documentation tests. */
    public static List<String> keys() {
        return SETTINGS.keySet().stream().sorted().toList();
    }

    /**
     * The per-listener keys: after a {@code listener} line they apply to that listener, before the first one they
     * are defaults for every listener. Besides these, {@code plugin_opt_<name>} passes an option to the plugins.
     */
    public static List<String> listenerKeys() {
        return LISTENER_SETTINGS.keySet().stream().sorted().toList();
    }

    /** Every key, global or per listener, {@code listener} itself excluded. */
    public static List<String> allKeys() {
        TreeSet<String> all = new TreeSet<>(SETTINGS.keySet());
        all.addAll(LISTENER_SETTINGS.keySet());
        return List.copyOf(all);
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

    /** A listener section being read: its line, address and the settings collected so far. */
    private record Section(String where, String bindAddress, int port, ListenerSettings settings) {
    }

    public static BrokerConfig.Builder parse(String source, List<String> lines) {
        BrokerConfig.Builder builder = BrokerConfig.builder();
        Section section = null;
        // where each key was last given, so that a problem found only once all are read names its line
        Map<String, String> whereOf = new java.util.HashMap<>();
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
                    endSection(builder, section);
                    section = listener(builder, value, where);
                    continue;
                }
                ListenerSettings target = section != null ? section.settings() : builder.listenerDefaults();
                if (key.startsWith(PLUGIN_OPTION_PREFIX) && key.length() > PLUGIN_OPTION_PREFIX.length()) {
                    if (value.isEmpty()) {
                        throw new IllegalArgumentException("missing value");
                    }
                    target.pluginOption(key.substring(PLUGIN_OPTION_PREFIX.length()), value);
                    continue;
                }
                Setting setting = SETTINGS.get(key);
                ListenerSetting listenerSetting = LISTENER_SETTINGS.get(key);
                if (setting == null && listenerSetting == null) {
                    throw new IllegalArgumentException("unknown key");
                }
                if (value.isEmpty()) {
                    throw new IllegalArgumentException("missing value");
                }
                if (listenerSetting != null && (section != null || setting == null)) {
                    listenerSetting.accept(target, value);
                } else {
                    setting.accept(builder, value);
                    whereOf.put(key, where);
                }
            } catch (IllegalArgumentException e) {
                throw new ConfigException(where + ": " + e.getMessage());
            }
        }
        endSection(builder, section);
        if (builder.listeners().isEmpty()) {
            try {
                builder.defaultListener();
            } catch (IllegalArgumentException e) {
                throw new ConfigException(source + ": " + e.getMessage());
            }
        }
        List<ListenerConfig> listeners = builder.listeners().isEmpty() ? List.of(builder.defaultListener())
                : builder.listeners();
        ClusterSettings.Problem problem = builder.cluster().problem(listeners);
        if (problem != null) {
            // a problem with a key the file does not give (a default) is reported where the cluster is enabled
            String where = whereOf.containsKey(problem.key()) ? whereOf.get(problem.key())
                    : whereOf.get("cluster.enabled") + ": " + problem.key();
            throw new ConfigException(where + ": " + problem.message());
        }
        return builder;
    }

    private static Section listener(BrokerConfig.Builder builder, String value, String where) {
        String[] parts = value.split("\\s+");
        if (value.isEmpty() || parts.length > 2) {
            throw new IllegalArgumentException("expected 'listener <port> [<bind address>]'");
        }
        int port = intIn(parts[0], 0, 65_535);
        return new Section(where, parts.length == 2 ? parts[1] : "0.0.0.0", port, builder.listenerDefaults().copy());
    }

    private static void endSection(BrokerConfig.Builder builder, Section section) {
        if (section == null) {
            return;
        }
        try {
            if (section.settings().isHttpApi()) {
                builder.adminListener(section.settings().buildAdmin(section.bindAddress(), section.port()));
            } else {
                builder.listener(section.settings().build(section.bindAddress(), section.port()));
            }
        } catch (IllegalArgumentException e) {
            throw new ConfigException(section.where() + ": " + e.getMessage());
        }
    }

    /** {@code publish|subscribe|all <filter> <regex> <replacement>}; the regex is compiled here. */
    static TopicFeatures.RewriteRule rewriteRule(String v) {
        String[] parts = v.split("\\s+");
        if (parts.length != 4) {
            throw new IllegalArgumentException("expected 'topic_rewrite publish|subscribe|all <filter> <regex> "
                    + "<replacement>' (four words, none with spaces)");
        }
        TopicFeatures.RewriteScope scope = oneOf(parts[0], TopicFeatures.RewriteScope.class);
        if (!io.ternmq.codec.TopicSyntax.isValidTopicFilter(parts[1])
                || io.ternmq.codec.TopicSyntax.isSharedSubscription(parts[1])) {
            throw new IllegalArgumentException("'" + parts[1] + "' is not a topic filter");
        }
        java.util.regex.Pattern regex;
        try {
            regex = java.util.regex.Pattern.compile(parts[2]);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new IllegalArgumentException("'" + parts[2] + "' is not a regular expression: "
                    + e.getDescription() + " near index " + e.getIndex());
        }
        String replacement = parts[3];
        for (int i = 0; i < replacement.length() - 1; i++) {
            char d = replacement.charAt(i + 1);
            if (replacement.charAt(i) == '$' && d >= '0' && d <= '9'
                    && (d == '0' || d - '0' > regex.matcher("").groupCount())) {
                throw new IllegalArgumentException("replacement '" + replacement + "' refers to $" + d
                        + ", but the expression has " + regex.matcher("").groupCount() + " group(s) ($1..$9)");
            }
        }
        return new TopicFeatures.RewriteRule(scope, parts[1], regex, replacement);
    }

    /** {@code <filter> [qos]}; %c and %u are substituted per client. */
    static TopicFeatures.AutoSubscription autoSubscription(String v) {
        String[] parts = v.split("\\s+");
        if (parts.length > 2) {
            throw new IllegalArgumentException("expected 'auto_subscribe <filter> [qos]'");
        }
        String check = parts[0].replace("%c", "c").replace("%u", "u");
        if (!io.ternmq.codec.TopicSyntax.isValidTopicFilter(check)) {
            throw new IllegalArgumentException("'" + parts[0] + "' is not a topic filter");
        }
        return new TopicFeatures.AutoSubscription(parts[0], parts.length == 2 ? intIn(parts[1], 0, 2) : 0);
    }

    /** A cluster name: letters, digits, '.', '_' and '-' (it is sent in the data link's handshake). */
    private static String clusterName(String v) {
        if (!v.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("'" + v + "' is not a cluster name (1 to 64 letters, digits, '.', "
                    + "'_' or '-')");
        }
        return v;
    }

    private static String secret(String v) {
        if (v.getBytes(StandardCharsets.UTF_8).length < ClusterSettings.MIN_SECRET_BYTES) {
            throw new IllegalArgumentException("must be at least " + ClusterSettings.MIN_SECRET_BYTES + " bytes");
        }
        return v;
    }

    /** A plugin name: letters, digits, '.', '_' and '-'. */
    private static String name(String v) {
        if (!v.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("'" + v + "' is not a plugin name");
        }
        return v;
    }

    /** A list separated by ':' (OpenSSL's way), ',' or spaces. */
    static List<String> list(String v) {
        return Arrays.stream(v.split("[:,\\s]+")).filter(x -> !x.isEmpty()).toList();
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

    /**
     * A duration as Mosquitto writes {@code persistent_client_expiration}: a whole number followed by h (hours), d
     * (days), w (weeks), m (months of 30 days) or y (years of 365 days). A bare number is seconds (Mosquitto refuses
     * it; we accept it, as documented before the suffixes were).
     *
     * @return seconds, 0..max
     */
    static long seconds(String v, long max) {
        long unit = switch (v.charAt(v.length() - 1)) {
            case 'h' -> 3_600;
            case 'd' -> 86_400;
            case 'w' -> 7 * 86_400;
            case 'm' -> 30 * 86_400;
            case 'y' -> 365 * 86_400;
            default -> 1;
        };
        String number = unit == 1 ? v : v.substring(0, v.length() - 1);
        if (!number.matches("[+-]?[0-9]+")) {
            throw new IllegalArgumentException("'" + v + "' is not a duration: seconds, or a whole number followed by "
                    + "h, d, w, m (30 days) or y");
        }
        if (unit == 1) {
            return longIn(v, 0, max);
        }
        long n;
        try {
            n = Long.parseLong(number);
        } catch (NumberFormatException e) {
            n = Long.MAX_VALUE; // too many digits: out of range below
        }
        if (n < 0 || n > max / unit) {
            throw new IllegalArgumentException(v + " is out of range 0.." + max + " seconds");
        }
        return n * unit;
    }

    static boolean bool(String v) {
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("'" + v + "' is not true or false");
        };
    }

    /**
     * The constant of {@code type} that {@code v} names, case ignored: in the file, an enum constant is written in
     * lower case ({@code DROP_OLDEST} as {@code drop_oldest}).
     */
    static <E extends Enum<E>> E oneOf(String v, Class<E> type) {
        E[] constants = type.getEnumConstants();
        for (E e : constants) {
            if (keyword(e).equalsIgnoreCase(v)) {
                return e;
            }
        }
        throw new IllegalArgumentException("'" + v + "' is not one of "
                + Arrays.stream(constants).map(ConfigFileParser::keyword).collect(Collectors.joining(", ")));
    }

    /** How the file writes an enum constant. */
    static String keyword(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
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
