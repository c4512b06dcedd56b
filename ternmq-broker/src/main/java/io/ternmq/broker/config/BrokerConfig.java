package io.ternmq.broker.config;


import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Everything the broker is configured with, immutable, in one section per concern. Defaults follow Mosquitto 2 where
 * it has the same setting; docs/configuration.md lists each key, its default and why.
 *
 * @param transport listeners, event loops, connect and slow-consumer bounds
 * @param mqtt      what the broker allows and offers MQTT clients
 * @param sessions  client identifiers and session expiry
 * @param queues    in-flight window, session queues, shared subscription groups
 * @param retained  bounds of the retained messages
 * @param storage   data directory, store and durability
 * @param security  broker-wide connection cap and the delay after failed authentication
 * @param logLevel  the root log level
 * @param cluster   whether this broker is a node of a cluster, and how it joins it
 * @param operations {@code $SYS} and the admin listener
 * @param extensions where extensions are loaded from
 * @param bridges    the {@code connection} sections, in file order
 * @param topics     Sparkplug awareness, delayed publish, topic rewriting, auto-subscribe
 */
public record BrokerConfig(TransportSettings transport, MqttSettings mqtt, SessionSettings sessions,
                           QueueSettings queues, RetainedSettings retained, StorageSettings storage,
                           SecuritySettings security, LogLevel logLevel, ClusterSettings cluster,
                           OperationsSettings operations, ExtensionSettings extensions,
                           List<BridgeSettings> bridges, TopicFeatures topics) {

    public BrokerConfig {
        bridges = List.copyOf(bridges);
    }

    public static final String DEFAULT_BIND = "127.0.0.1";
    public static final int DEFAULT_PORT = 1883;

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Whether clients without a user name may connect through this listener: its {@code allow_anonymous}, else (like
     * Mosquitto 2) yes only in the default loopback-only mode, where the configuration defines no listener.
     */
    public boolean allowAnonymous(ListenerConfig listener) {
        Boolean explicit = listener.auth().allowAnonymous();
        return explicit != null ? explicit : !transport.listenersConfigured();
    }

    /**
     * Mutable collector of settings, one setter per configuration key; {@link #build()} sorts them into sections and
     * fills in the default listener when none was given. A setter taking a keyword (as written in the file) refuses
     * an unknown one with the file parser's message.
     */
    public static final class Builder {
        private final List<ListenerConfig> listeners = new ArrayList<>();
        private Path dataDir = Path.of("data");
        private int maxPacketSize = 1024 * 1024;
        private int maxInflightMessages = 20;
        private int maxQueuedMessages = 1000;
        private boolean queueQos0Messages = false;
        private int connectTimeoutSeconds = 10;
        private boolean allowZeroLengthClientId = true;
        private String autoIdPrefix = "auto-";
        private int maxConnections = -1;
        private int maxSubscriptionsPerClient = -1;
        private int maxKeepAlive = 65535;
        private int receiveMaximum = 100;
        private int maxQos = 2;
        private boolean retainAvailable = true;
        private boolean wildcardSubscriptionAvailable = true;
        private boolean subscriptionIdentifierAvailable = true;
        private boolean sharedSubscriptionAvailable = true;
        private int maxTopicAlias = 10;
        private long maxSessionExpiryInterval = 0xFFFFFFFFL;
        private String responseInformation = "";
        private SharedSubscriptionStrategy sharedSubscriptionStrategy = SharedSubscriptionStrategy.ROUND_ROBIN;
        private StorageSettings.Type storageType = StorageSettings.Type.ROCKSDB;
        private Durability storageDurability = Durability.FSYNC;
        private int storageSyncIntervalMillis = 100;
        private long maxQueuedBytes = 0L;
        private QueueSettings.OverflowPolicy queueOverflowPolicy = QueueSettings.OverflowPolicy.REFUSE_NEW;
        private QueueSettings.V3OverflowAction queueOverflowV3Action = QueueSettings.V3OverflowAction.ACK;
        private long retainedMaxCount = -1L;
        private long retainedMaxBytes = -1L;
        private long persistentClientExpiration = 0L;
        private int maxTopicLength = 65_535;
        private int maxTopicLevels = 201;
        private int maxPublishRate = 0;
        private int ioThreads = 0;
        private LogLevel logLevel = LogLevel.INFO;
        private Path extensionsDir = Path.of("extensions");
        private int extensionSlowCallMillis = 10;
        private final ListenerSettings listenerDefaults = new ListenerSettings();
        private boolean listenersConfigured;
        private int authFailureDelayMillis = 1000;
        private int authFailureDelayMaxMillis = 8000;
        private int maxOutboundBuffer = 8 * 1024 * 1024;
        private TransportSettings.SlowConsumerPolicy slowConsumerPolicy =
                TransportSettings.SlowConsumerPolicy.DROP_QOS0;
        private int slowConsumerTimeoutSeconds = 60;
        private boolean clusterEnabled;
        private String clusterName = ClusterSettings.DEFAULT_NAME;
        private ClusterSettings.Address clusterBind = ClusterSettings.DEFAULT_BIND;
        private List<ClusterSettings.Address> clusterMembers = List.of();
        private String clusterSecret;
        private int clusterMinMembers = 1;
        private int clusterBackupCount = 1;
        private int clusterFailureTimeoutSeconds = 10;
        private int sysIntervalSeconds = OperationsSettings.DEFAULT_SYS_INTERVAL;
        private AdminListenerConfig adminListener;
        private int shutdownTimeoutSeconds = OperationsSettings.DEFAULT_SHUTDOWN_TIMEOUT;
        private List<BridgeSettings> bridges = List.of();
        private boolean sparkplugAware;
        private boolean sparkplugNdeathTimestamp;
        private boolean delayedPublish;
        private int maxDelayedMessages = TopicFeatures.DEFAULT_MAX_DELAYED_MESSAGES;
        private final List<TopicFeatures.RewriteRule> topicRewrites = new ArrayList<>();
        private final List<TopicFeatures.AutoSubscription> autoSubscriptions = new ArrayList<>();

        private Builder() {
        }

        /** Adds a listener with the per-listener defaults ({@link #listenerDefaults()}). */
        public Builder listener(String bindAddress, int port) {
            listenersConfigured = true;
            listeners.add(listenerDefaults.build(bindAddress, port));
            return this;
        }

        /** Adds a listener with settings of its own, starting from a copy of {@link #listenerDefaults()}. */
        public Builder listener(String bindAddress, int port, Consumer<ListenerSettings> settings) {
            ListenerSettings s = listenerDefaults.copy();
            settings.accept(s);
            listenersConfigured = true;
            listeners.add(s.build(bindAddress, port));
            return this;
        }

        /** Adds a listener that is already built. */
        public Builder listener(ListenerConfig listener) {
            listenersConfigured = true;
            listeners.add(listener);
            return this;
        }

        /**
         * The per-listener settings given before any listener (global ones, in Mosquitto's terms): every listener
         * added later starts from them, and so does the default listener.
         */
        public ListenerSettings listenerDefaults() {
            return listenerDefaults;
        }

        /** The listener used when none is configured: 127.0.0.1:1883 with the per-listener defaults. */
        public ListenerConfig defaultListener() {
            return listenerDefaults.build(DEFAULT_BIND, DEFAULT_PORT);
        }

        public Builder authFailureDelayMillis(int millis) {
            this.authFailureDelayMillis = millis;
            return this;
        }

        public Builder authFailureDelayMaxMillis(int millis) {
            this.authFailureDelayMaxMillis = millis;
            return this;
        }

        public Builder maxOutboundBuffer(int bytes) {
            this.maxOutboundBuffer = bytes;
            return this;
        }

        public Builder slowConsumerPolicy(TransportSettings.SlowConsumerPolicy policy) {
            this.slowConsumerPolicy = policy;
            return this;
        }

        /** "drop_qos0" or "disconnect". */
        public Builder slowConsumerPolicy(String policy) {
            return slowConsumerPolicy(ConfigFileParser.oneOf(policy, TransportSettings.SlowConsumerPolicy.class));
        }

        public Builder slowConsumerTimeoutSeconds(int seconds) {
            this.slowConsumerTimeoutSeconds = seconds;
            return this;
        }

        /** Seconds between {@code $SYS} updates; 0: none. */
        public Builder sysIntervalSeconds(int seconds) {
            if (seconds < 0) {
                throw new IllegalArgumentException("sys_interval must not be negative");
            }
            this.sysIntervalSeconds = seconds;
            return this;
        }

        /** Seconds a stop (SIGTERM, SIGINT) may take before the process exits anyway ({@code shutdown_timeout}). */
        public Builder shutdownTimeoutSeconds(int seconds) {
            if (seconds < 1) {
                throw new IllegalArgumentException("shutdown_timeout must be at least 1 second");
            }
            this.shutdownTimeoutSeconds = seconds;
            return this;
        }

        /** The HTTP admin listener ({@code protocol http_api}); one at most. */
        public Builder adminListener(AdminListenerConfig admin) {
            if (adminListener != null && admin != null) {
                throw new IllegalArgumentException("only one listener may have protocol http_api (one is on "
                        + adminListener + ")");
            }
            this.adminListener = admin;
            return this;
        }

        /** The bridges ({@code connection} sections). */
        public Builder bridges(List<BridgeSettings> bridges) {
            this.bridges = List.copyOf(bridges);
            return this;
        }

        public Builder clearListeners() {
            listeners.clear();
            listenersConfigured = false;
            return this;
        }

        /** The listeners so far, modifiable (command-line overrides edit the first). */
        public List<ListenerConfig> listeners() {
            return listeners;
        }

        public Builder dataDir(Path dataDir) {
            this.dataDir = dataDir;
            return this;
        }

        public Builder maxPacketSize(int maxPacketSize) {
            this.maxPacketSize = maxPacketSize;
            return this;
        }

        public Builder maxInflightMessages(int maxInflightMessages) {
            this.maxInflightMessages = maxInflightMessages;
            return this;
        }

        public Builder maxQueuedMessages(int maxQueuedMessages) {
            this.maxQueuedMessages = maxQueuedMessages;
            return this;
        }

        public Builder queueQos0Messages(boolean queueQos0Messages) {
            this.queueQos0Messages = queueQos0Messages;
            return this;
        }

        public Builder connectTimeoutSeconds(int connectTimeoutSeconds) {
            this.connectTimeoutSeconds = connectTimeoutSeconds;
            return this;
        }

        public Builder allowZeroLengthClientId(boolean allowZeroLengthClientId) {
            this.allowZeroLengthClientId = allowZeroLengthClientId;
            return this;
        }

        public Builder autoIdPrefix(String autoIdPrefix) {
            this.autoIdPrefix = autoIdPrefix;
            return this;
        }

        public Builder maxConnections(int maxConnections) {
            this.maxConnections = maxConnections;
            return this;
        }

        public Builder maxSubscriptionsPerClient(int maxSubscriptionsPerClient) {
            this.maxSubscriptionsPerClient = maxSubscriptionsPerClient;
            return this;
        }

        public Builder maxKeepAlive(int maxKeepAlive) {
            this.maxKeepAlive = maxKeepAlive;
            return this;
        }

        public Builder receiveMaximum(int receiveMaximum) {
            this.receiveMaximum = receiveMaximum;
            return this;
        }

        public Builder maxQos(int maxQos) {
            this.maxQos = maxQos;
            return this;
        }

        public Builder retainAvailable(boolean retainAvailable) {
            this.retainAvailable = retainAvailable;
            return this;
        }

        public Builder wildcardSubscriptionAvailable(boolean wildcardSubscriptionAvailable) {
            this.wildcardSubscriptionAvailable = wildcardSubscriptionAvailable;
            return this;
        }

        public Builder subscriptionIdentifierAvailable(boolean subscriptionIdentifierAvailable) {
            this.subscriptionIdentifierAvailable = subscriptionIdentifierAvailable;
            return this;
        }

        public Builder sharedSubscriptionAvailable(boolean sharedSubscriptionAvailable) {
            this.sharedSubscriptionAvailable = sharedSubscriptionAvailable;
            return this;
        }

        public Builder maxTopicAlias(int maxTopicAlias) {
            this.maxTopicAlias = maxTopicAlias;
            return this;
        }

        public Builder maxSessionExpiryInterval(long maxSessionExpiryInterval) {
            this.maxSessionExpiryInterval = maxSessionExpiryInterval;
            return this;
        }

        public Builder responseInformation(String responseInformation) {
            this.responseInformation = responseInformation;
            return this;
        }

        public Builder sharedSubscriptionStrategy(SharedSubscriptionStrategy strategy) {
            this.sharedSubscriptionStrategy = strategy;
            return this;
        }

        /** "round_robin", "random", "sticky" or "hash_client_id". */
        public Builder sharedSubscriptionStrategy(String strategy) {
            return sharedSubscriptionStrategy(ConfigFileParser.oneOf(strategy, SharedSubscriptionStrategy.class));
        }

        public Builder storageType(StorageSettings.Type type) {
            this.storageType = type;
            return this;
        }

        /** "rocksdb" or "memory". */
        public Builder storageType(String type) {
            return storageType(ConfigFileParser.oneOf(type, StorageSettings.Type.class));
        }

        public Builder storageDurability(Durability durability) {
            this.storageDurability = durability;
            return this;
        }

        /** "fsync", "periodic" or "none". */
        public Builder storageDurability(String durability) {
            return storageDurability(ConfigFileParser.oneOf(durability, Durability.class));
        }

        public Builder storageSyncIntervalMillis(int storageSyncIntervalMillis) {
            this.storageSyncIntervalMillis = storageSyncIntervalMillis;
            return this;
        }

        public Builder maxQueuedBytes(long maxQueuedBytes) {
            this.maxQueuedBytes = maxQueuedBytes;
            return this;
        }

        public Builder queueOverflowPolicy(QueueSettings.OverflowPolicy policy) {
            this.queueOverflowPolicy = policy;
            return this;
        }

        /** "refuse_new" or "drop_oldest". */
        public Builder queueOverflowPolicy(String policy) {
            return queueOverflowPolicy(ConfigFileParser.oneOf(policy, QueueSettings.OverflowPolicy.class));
        }

        public Builder queueOverflowV3Action(QueueSettings.V3OverflowAction action) {
            this.queueOverflowV3Action = action;
            return this;
        }

        /** "ack" or "disconnect". */
        public Builder queueOverflowV3Action(String action) {
            return queueOverflowV3Action(ConfigFileParser.oneOf(action, QueueSettings.V3OverflowAction.class));
        }

        public Builder retainedMaxCount(long retainedMaxCount) {
            this.retainedMaxCount = retainedMaxCount;
            return this;
        }

        public Builder retainedMaxBytes(long retainedMaxBytes) {
            this.retainedMaxBytes = retainedMaxBytes;
            return this;
        }

        /** Seconds; 0: no cap. */
        public Builder persistentClientExpiration(long seconds) {
            this.persistentClientExpiration = seconds;
            return this;
        }

        public Builder maxTopicLength(int maxTopicLength) {
            this.maxTopicLength = maxTopicLength;
            return this;
        }

        public Builder maxTopicLevels(int maxTopicLevels) {
            this.maxTopicLevels = maxTopicLevels;
            return this;
        }

        public Builder maxPublishRate(int maxPublishRate) {
            this.maxPublishRate = maxPublishRate;
            return this;
        }

        public Builder ioThreads(int ioThreads) {
            this.ioThreads = ioThreads;
            return this;
        }

        public Builder extensionsDir(Path dir) {
            this.extensionsDir = dir;
            return this;
        }

        public Builder extensionSlowCallMillis(int millis) {
            this.extensionSlowCallMillis = millis;
            return this;
        }

        public Builder logLevel(LogLevel level) {
            this.logLevel = level;
            return this;
        }

        /** "error", "warn", "info", "debug" or "trace". */
        public Builder logLevel(String level) {
            return logLevel(ConfigFileParser.oneOf(level, LogLevel.class));
        }

        public Builder clusterEnabled(boolean enabled) {
            this.clusterEnabled = enabled;
            return this;
        }

        public Builder clusterName(String name) {
            this.clusterName = name;
            return this;
        }

        public Builder clusterBind(ClusterSettings.Address bind) {
            this.clusterBind = bind;
            return this;
        }

        public Builder clusterMembers(List<ClusterSettings.Address> members) {
            this.clusterMembers = List.copyOf(members);
            return this;
        }

        public Builder clusterSecret(String secret) {
            this.clusterSecret = secret;
            return this;
        }

        public Builder clusterMinMembers(int minMembers) {
            this.clusterMinMembers = minMembers;
            return this;
        }

        public Builder clusterBackupCount(int backupCount) {
            this.clusterBackupCount = backupCount;
            return this;
        }

        public Builder clusterFailureTimeoutSeconds(int seconds) {
            this.clusterFailureTimeoutSeconds = seconds;
            return this;
        }

        public Builder sparkplugAware(boolean on) {
            this.sparkplugAware = on;
            return this;
        }

        public Builder sparkplugNdeathTimestamp(boolean on) {
            this.sparkplugNdeathTimestamp = on;
            return this;
        }

        public Builder delayedPublish(boolean on) {
            this.delayedPublish = on;
            return this;
        }

        public Builder maxDelayedMessages(int max) {
            this.maxDelayedMessages = max;
            return this;
        }

        /** Adds a {@code topic_rewrite} rule after those given before (the first that applies wins). */
        public Builder topicRewrite(TopicFeatures.RewriteRule rule) {
            topicRewrites.add(rule);
            return this;
        }

        /** Adds an {@code auto_subscribe} entry. */
        public Builder autoSubscribe(TopicFeatures.AutoSubscription subscription) {
            autoSubscriptions.add(subscription);
            return this;
        }

        /** The cluster settings so far, unchecked ({@link ClusterSettings#problem} checks them). */
        public ClusterSettings cluster() {
            return new ClusterSettings(clusterEnabled, clusterName, clusterBind, clusterMembers, clusterSecret,
                    clusterMinMembers, clusterBackupCount, clusterFailureTimeoutSeconds);
        }

        /** @throws IllegalArgumentException naming the key, if the cluster settings do not fit together */
        public BrokerConfig build() {
            List<ListenerConfig> effective = listeners.isEmpty() ? List.of(defaultListener()) : listeners;
            ClusterSettings cluster = cluster();
            ClusterSettings.Problem problem = cluster.problem(effective);
            if (problem != null) {
                throw new IllegalArgumentException(problem.key() + ": " + problem.message());
            }
            return new BrokerConfig(
                    new TransportSettings(effective,
                            listenersConfigured, ioThreads, connectTimeoutSeconds, maxOutboundBuffer,
                            slowConsumerPolicy, slowConsumerTimeoutSeconds),
                    new MqttSettings(maxPacketSize, maxKeepAlive, receiveMaximum, maxQos, retainAvailable,
                            wildcardSubscriptionAvailable, subscriptionIdentifierAvailable,
                            sharedSubscriptionAvailable, maxTopicAlias, maxTopicLength, maxTopicLevels,
                            maxPublishRate, maxSubscriptionsPerClient, responseInformation),
                    new SessionSettings(allowZeroLengthClientId, autoIdPrefix, maxSessionExpiryInterval,
                            persistentClientExpiration),
                    new QueueSettings(maxInflightMessages, maxQueuedMessages, maxQueuedBytes, queueQos0Messages,
                            queueOverflowPolicy, queueOverflowV3Action, sharedSubscriptionStrategy),
                    new RetainedSettings(retainedMaxCount, retainedMaxBytes),
                    new StorageSettings(dataDir, storageType, storageDurability, storageSyncIntervalMillis),
                    new SecuritySettings(authFailureDelayMillis, authFailureDelayMaxMillis, maxConnections),
                    logLevel, cluster, new OperationsSettings(sysIntervalSeconds, adminListener,
                    shutdownTimeoutSeconds), new ExtensionSettings(extensionsDir, extensionSlowCallMillis),
                    bridges, new TopicFeatures(sparkplugAware, sparkplugNdeathTimestamp, delayedPublish,
                            maxDelayedMessages, topicRewrites, autoSubscriptions));
        }
    }
}
