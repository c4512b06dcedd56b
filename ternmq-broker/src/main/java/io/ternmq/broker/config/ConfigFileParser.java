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

    private interface BridgeSetting extends BiConsumer<BridgeSettings.Builder, String> {
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

    /** Keys of a {@code connection} section (a bridge): Mosquitto's, then TernMQ's own. */
    private static final Map<String, BridgeSetting> BRIDGE_SETTINGS = Map.ofEntries(
            Map.entry("address", ConfigFileParser::addresses),
            Map.entry("addresses", ConfigFileParser::addresses),
            Map.entry("round_robin", (b, v) -> b.roundRobin = bool(v)),
            Map.entry("topic", (b, v) -> b.topics.add(bridgeTopic(v))),
            Map.entry("remote_clientid", (b, v) -> b.remoteClientId = v),
            Map.entry("local_clientid", (b, v) -> b.localClientId = v),
            Map.entry("remote_username", (b, v) -> b.remoteUsername = v),
            Map.entry("remote_password", (b, v) -> b.remotePassword = v),
            Map.entry("local_username", (b, v) -> b.localUsername = v),
            Map.entry("cleansession", (b, v) -> b.cleanSession = bool(v)),
            Map.entry("local_cleansession", (b, v) -> b.localCleanSession = bool(v)),
            Map.entry("bridge_protocol_version", (b, v) -> b.protocolVersion =
                    switch (oneOf(v, "mqttv31", "mqttv311", "mqttv50")) {
                        case "mqttv31" -> 3;
                        case "mqttv50" -> 5;
                        default -> 4;
                    }),
            Map.entry("try_private", (b, v) -> b.tryPrivate = bool(v)),
            Map.entry("keepalive_interval", (b, v) -> b.keepAliveSeconds = intIn(v, 5, 65_535)),
            Map.entry("restart_timeout", (b, v) -> b.restart = restartTimeout(v)),
            Map.entry("notifications", (b, v) -> b.notifications = bool(v)),
            Map.entry("notification_topic", (b, v) -> b.notificationTopic = topicName(v)),
            Map.entry("bridge_outgoing_retain", (b, v) -> b.outgoingRetain = bool(v)),
            Map.entry("bridge_max_packet_size", (b, v) -> b.maxPacketSize = intIn(v, 0, 268_435_455 + 5)),
            Map.entry("bridge_cafile", (b, v) -> b.caFile = Path.of(v)),
            Map.entry("bridge_certfile", (b, v) -> b.certFile = Path.of(v)),
            Map.entry("bridge_keyfile", (b, v) -> b.keyFile = Path.of(v)),
            Map.entry("bridge_insecure", (b, v) -> b.insecure = bool(v)),
            Map.entry("bridge_tls_version", (b, v) -> b.tlsVersion = switch (oneOf(v, "tlsv1.2", "tlsv1.3")) {
                case "tlsv1.3" -> TlsSettings.Version.TLS_1_3;
                default -> TlsSettings.Version.TLS_1_2;
            }),
            Map.entry("bridge_alpn", (b, v) -> b.alpn = v),
            Map.entry("bridge_max_queued_messages", (b, v) -> b.maxQueuedMessages = intIn(v, 1, Integer.MAX_VALUE)),
            Map.entry("bridge_max_queued_bytes", (b, v) -> b.maxQueuedBytes = longIn(v, 0, Long.MAX_VALUE)),
            Map.entry("bridge_queue_overflow",
                    (b, v) -> b.dropOldest = oneOf(v, "drop_oldest", "refuse_new").equals("drop_oldest")),
            Map.entry("bridge_max_inflight", (b, v) -> b.maxInflight = intIn(v, 1, 65_535)),
            Map.entry("bridge_ack_timeout", (b, v) -> b.ackTimeoutSeconds = intIn(v, 1, 86_400)),
            Map.entry("bridge_publish_rate", (b, v) -> b.publishRate = intIn(v, 0, Integer.MAX_VALUE)),
            Map.entry("bridge_hop_limit", (b, v) -> b.hopLimit = intIn(v, 1, 255)),
            Map.entry("start_type", (b, v) -> {
                if (!oneOf(v, "automatic", "lazy", "once").equals("automatic")) {
                    throw new IllegalArgumentException("'" + v + "' is not supported by TernMQ's bridges, which "
                            + "always start automatically (docs/bridges.md)");
                }
            }));

    /** Mosquitto bridge keys TernMQ refuses by name rather than as unknown (docs/bridges.md says why). */
    private static final List<String> UNSUPPORTED_BRIDGE_KEYS = List.of("threshold", "idle_timeout",
            "bridge_identity", "bridge_psk", "bridge_capath", "bridge_bind_address", "bridge_require_ocsp",
            "notifications_local_only", "bridge_attempt_unsubscribe", "local_password", "bridge_reload_type");

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

    /** The keys of a {@code connection} section (a bridge), {@code connection} itself excluded. */
    public static List<String> bridgeKeys() {
        return BRIDGE_SETTINGS.keySet().stream().sorted().toList();
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
        List<BridgeSettings.Builder> bridges = new java.util.ArrayList<>();
        BridgeSettings.Builder bridge = null;
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
                if (key.equals("connection")) {
                    if (value.isEmpty() || !value.matches("[A-Za-z0-9._-]+")) {
                        throw new IllegalArgumentException(value.isEmpty() ? "missing value"
                                : "'" + value + "' is not a connection name (letters, digits, '.', '_', '-')");
                    }
                    bridge = new BridgeSettings.Builder(value, where);
                    bridges.add(bridge);
                    continue;
                }
                BridgeSetting bridgeSetting = BRIDGE_SETTINGS.get(key);
                if (bridgeSetting != null || UNSUPPORTED_BRIDGE_KEYS.contains(key)) {
                    if (bridge == null) {
                        throw new IllegalArgumentException("a bridge key, allowed only after a 'connection' line");
                    }
                    if (bridgeSetting == null) {
                        throw new IllegalArgumentException("not supported by TernMQ's bridges (docs/bridges.md)");
                    }
                    if (value.isEmpty()) {
                        throw new IllegalArgumentException("missing value");
                    }
                    bridgeSetting.accept(bridge, value);
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
        endBridges(builder, bridges);
        if (builder.listeners().isEmpty()) {
            try {
                builder.defaultListener();
            } catch (IllegalArgumentException e) {
                throw new ConfigException(source + ": " + e.getMessage());
            }
        }
        List<ListenerConfig> listeners = builder.listeners().isEmpty() ? List.of(builder.defaultListener())
                : builder.listeners();
        if (!bridges.isEmpty() && builder.cluster().enabled()) {
            // every node would run the bridge on one session id, which the cluster moves between nodes
            throw new ConfigException(bridges.get(0).where() + ": bridges do not run in a cluster yet "
                    + "(cluster.enabled true); docs/bridges.md");
        }
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

    private static void endBridges(BrokerConfig.Builder builder, List<BridgeSettings.Builder> bridges) {
        Map<String, String> names = new java.util.HashMap<>();
        Map<String, String> localIds = new java.util.HashMap<>();
        List<BridgeSettings> built = new java.util.ArrayList<>();
        for (BridgeSettings.Builder b : bridges) {
            BridgeSettings s;
            try {
                s = b.build(HostName.NAME);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(b.where() + ": " + e.getMessage());
            }
            String other = names.putIfAbsent(s.name(), b.where());
            if (other != null) {
                throw new ConfigException(b.where() + ": '" + s.name() + "' is already the name of " + other);
            }
            other = localIds.putIfAbsent(s.localClientId(), b.where());
            if (other != null) {
                throw new ConfigException(b.where() + ": local_clientid '" + s.localClientId()
                        + "' is already used by " + other);
            }
            built.add(s);
        }
        builder.bridges(built);
    }

    /** This machine's name, for default bridge client ids (Mosquitto's hostname.connection). */
    private static final class HostName {
        static final String NAME = read();

        private static String read() {
            String env = System.getenv("HOSTNAME");
            if (env != null && !env.isBlank()) {
                return env.strip();
            }
            try {
                return java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException e) {
                return "localhost";
            }
        }
    }

    /** {@code address host[:port] [host[:port]...]}; a '#' ends the list, as in Mosquitto. */
    private static void addresses(BridgeSettings.Builder b, String v) {
        if (!b.addresses.isEmpty()) {
            throw new IllegalArgumentException("given twice in this connection");
        }
        for (String token : v.split("\\s+")) {
            if (token.startsWith("#")) {
                break;
            }
            b.addresses.add(BridgeSettings.Address.parse(token));
        }
    }

    /**
     * {@code topic <pattern> [[[out|in|both] qos] local-prefix remote-prefix]}, read as Mosquitto reads it: tokens
     * separated by spaces, {@code ""} for "none", a token starting with '#' ends the line.
     */
    static BridgeTopic bridgeTopic(String v) {
        List<String> t = new java.util.ArrayList<>();
        for (String token : v.split("\\s+")) {
            if (token.startsWith("#") && !t.isEmpty()) {
                break;
            }
            t.add(token);
        }
        if (t.size() > 5) {
            throw new IllegalArgumentException("expected 'topic <pattern> [in|out|both] [qos] [local-prefix "
                    + "remote-prefix]'");
        }
        String pattern = t.get(0).equals("\"\"") ? null : t.get(0);
        BridgeTopic.Direction direction = t.size() > 1 ? oneOf(t.get(1), BridgeTopic.Direction.class)
                : BridgeTopic.Direction.OUT;
        io.ternmq.codec.QoS qos = t.size() > 2 ? io.ternmq.codec.QoS.of(intIn(t.get(2), 0, 2))
                : io.ternmq.codec.QoS.AT_MOST_ONCE;
        String local = t.size() > 3 && !t.get(3).equals("\"\"") ? t.get(3) : null;
        String remote = t.size() > 4 && !t.get(4).equals("\"\"") ? t.get(4) : null;
        return new BridgeTopic(pattern, direction, qos, local, remote);
    }

    /** {@code restart_timeout <constant>} or {@code <base> <cap> [<stable>]}, seconds. */
    private static BridgeSettings.RestartTimeout restartTimeout(String v) {
        String[] parts = v.split("\\s+");
        if (parts.length > 3) {
            throw new IllegalArgumentException("expected '<seconds>' or '<base> <cap> [<stable>]'");
        }
        int base = intIn(parts[0], 1, 86_400);
        if (parts.length == 1) {
            return new BridgeSettings.RestartTimeout(base, base, 0);
        }
        int cap = intIn(parts[1], 1, 86_400);
        if (cap < base) {
            throw new IllegalArgumentException("the cap " + cap + " is lower than the base " + base);
        }
        int stable = parts.length == 3 ? intIn(parts[2], 0, 86_400) : 0;
        return new BridgeSettings.RestartTimeout(base, cap, stable);
    }

    private static String topicName(String v) {
        if (!io.ternmq.codec.TopicSyntax.isValidTopicName(v)) {
            throw new IllegalArgumentException("'" + v + "' is not a valid topic name");
        }
        return v;
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
