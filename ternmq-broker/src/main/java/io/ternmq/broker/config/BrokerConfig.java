package io.ternmq.broker.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Everything the broker is configured with, immutable. Defaults follow Mosquitto 2 where it has the same setting;
 * docs/configuration.md lists each key, its default and why.
 */
public final class BrokerConfig {

    public static final String DEFAULT_BIND = "127.0.0.1";
    public static final int DEFAULT_PORT = 1883;

    private final List<ListenerConfig> listeners;
    private final Path dataDir;
    private final int maxPacketSize;
    private final int maxInflightMessages;
    private final int maxQueuedMessages;
    private final boolean queueQos0Messages;
    private final int connectTimeoutSeconds;
    private final boolean allowZeroLengthClientId;
    private final String autoIdPrefix;
    private final int maxConnections;
    private final int maxSubscriptionsPerClient;
    private final int maxKeepAlive;
    private final int receiveMaximum;
    private final int maxQos;
    private final boolean retainAvailable;
    private final boolean wildcardSubscriptionAvailable;
    private final boolean subscriptionIdentifierAvailable;
    private final boolean sharedSubscriptionAvailable;
    private final int maxTopicAlias;
    private final long maxSessionExpiryInterval;
    private final String responseInformation;
    private final String sharedSubscriptionStrategy;
    private final String storageType;
    private final String storageDurability;
    private final int storageSyncIntervalMillis;
    private final long maxQueuedBytes;
    private final String queueOverflowPolicy;
    private final String queueOverflowV3Action;
    private final long retainedMaxCount;
    private final long retainedMaxBytes;
    private final long persistentClientExpiration;
    private final int maxTopicLength;
    private final int maxTopicLevels;
    private final int maxPublishRate;
    private final int ioThreads;
    private final String logLevel;
    private final boolean listenersConfigured;
    private final int authFailureDelayMillis;
    private final int authFailureDelayMaxMillis;
    private final int maxOutboundBuffer;
    private final String slowConsumerPolicy;
    private final int slowConsumerTimeoutSeconds;

    private BrokerConfig(Builder b) {
        this.listeners = List.copyOf(b.listeners.isEmpty()
                ? List.of(b.defaultListener()) : b.listeners);
        this.listenersConfigured = b.listenersConfigured;
        this.authFailureDelayMillis = b.authFailureDelayMillis;
        this.authFailureDelayMaxMillis = b.authFailureDelayMaxMillis;
        this.maxOutboundBuffer = b.maxOutboundBuffer;
        this.slowConsumerPolicy = b.slowConsumerPolicy;
        this.slowConsumerTimeoutSeconds = b.slowConsumerTimeoutSeconds;
        this.dataDir = b.dataDir;
        this.maxPacketSize = b.maxPacketSize;
        this.maxInflightMessages = b.maxInflightMessages;
        this.maxQueuedMessages = b.maxQueuedMessages;
        this.queueQos0Messages = b.queueQos0Messages;
        this.connectTimeoutSeconds = b.connectTimeoutSeconds;
        this.allowZeroLengthClientId = b.allowZeroLengthClientId;
        this.autoIdPrefix = b.autoIdPrefix;
        this.maxConnections = b.maxConnections;
        this.maxSubscriptionsPerClient = b.maxSubscriptionsPerClient;
        this.maxKeepAlive = b.maxKeepAlive;
        this.receiveMaximum = b.receiveMaximum;
        this.maxQos = b.maxQos;
        this.retainAvailable = b.retainAvailable;
        this.wildcardSubscriptionAvailable = b.wildcardSubscriptionAvailable;
        this.subscriptionIdentifierAvailable = b.subscriptionIdentifierAvailable;
        this.sharedSubscriptionAvailable = b.sharedSubscriptionAvailable;
        this.maxTopicAlias = b.maxTopicAlias;
        this.maxSessionExpiryInterval = b.maxSessionExpiryInterval;
        this.responseInformation = b.responseInformation;
        this.sharedSubscriptionStrategy = b.sharedSubscriptionStrategy;
        this.storageType = b.storageType;
        this.storageDurability = b.storageDurability;
        this.storageSyncIntervalMillis = b.storageSyncIntervalMillis;
        this.maxQueuedBytes = b.maxQueuedBytes;
        this.queueOverflowPolicy = b.queueOverflowPolicy;
        this.queueOverflowV3Action = b.queueOverflowV3Action;
        this.retainedMaxCount = b.retainedMaxCount;
        this.retainedMaxBytes = b.retainedMaxBytes;
        this.persistentClientExpiration = b.persistentClientExpiration;
        this.maxTopicLength = b.maxTopicLength;
        this.maxTopicLevels = b.maxTopicLevels;
        this.maxPublishRate = b.maxPublishRate;
        this.ioThreads = b.ioThreads;
        this.logLevel = b.logLevel;
    }

    public static Builder builder() {
        return new Builder();
    }

    public List<ListenerConfig> listeners() {
        return listeners;
    }

    /**
     * Whether the listeners were given explicitly (by {@code listener} lines or {@link Builder#listener}) rather than
     * being the loopback-only default. Decides {@link #allowAnonymous} for listeners that do not say.
     */
    public boolean listenersConfigured() {
        return listenersConfigured;
    }

    /**
     * Whether clients without a user name may connect through this listener: its {@code allow_anonymous}, else (like
     * Mosquitto 2) yes only in the default loopback-only mode, where the configuration defines no listener.
     */
    public boolean allowAnonymous(ListenerConfig listener) {
        Boolean explicit = listener.auth().allowAnonymous();
        return explicit != null ? explicit : !listenersConfigured;
    }

    /** Delay before a CONNACK refusing credentials, doubled for each further failure from the same address; 0: off. */
    public int authFailureDelayMillis() {
        return authFailureDelayMillis;
    }

    /** Upper bound of that delay. */
    public int authFailureDelayMaxMillis() {
        return authFailureDelayMaxMillis;
    }

    /**
     * Bytes that may wait to be written to one connection; beyond it, a QoS 0 PUBLISH to that client is dropped
     * (or the client disconnected, per {@link #slowConsumerPolicy}).
     */
    public int maxOutboundBuffer() {
        return maxOutboundBuffer;
    }

    /** What a QoS 0 PUBLISH to a client past max_outbound_buffer does: drop_qos0 (dropped, counted) or disconnect. */
    public String slowConsumerPolicy() {
        return slowConsumerPolicy;
    }

    /** A connection that cannot be written to (a full socket buffer and more waiting) this long is closed; 0: never. */
    public int slowConsumerTimeoutSeconds() {
        return slowConsumerTimeoutSeconds;
    }

    /** Where the broker keeps its data. */
    public Path dataDir() {
        return dataDir;
    }

    /** Largest packet accepted from a client, fixed header included. */
    public int maxPacketSize() {
        return maxPacketSize;
    }

    /** Outbound QoS 1/2 messages in flight per client (further capped by an MQTT 5 client's Receive Maximum). */
    public int maxInflightMessages() {
        return maxInflightMessages;
    }

    /** Messages a session queues beyond the in-flight window. */
    public int maxQueuedMessages() {
        return maxQueuedMessages;
    }

    /** Whether QoS 0 messages are queued for offline persistent sessions. */
    public boolean queueQos0Messages() {
        return queueQos0Messages;
    }

    /** Time allowed from TCP accept to a successful CONNECT, authentication included. */
    public int connectTimeoutSeconds() {
        return connectTimeoutSeconds;
    }

    /** Whether an empty client id gets an assigned one. */
    public boolean allowZeroLengthClientId() {
        return allowZeroLengthClientId;
    }

    /** Prefix of assigned client ids. */
    public String autoIdPrefix() {
        return autoIdPrefix;
    }

    /** Connected clients accepted; negative means no cap. */
    public int maxConnections() {
        return maxConnections;
    }

    /** Topic filters per session; negative means no cap. */
    public int maxSubscriptionsPerClient() {
        return maxSubscriptionsPerClient;
    }

    /** Largest keep alive accepted (MQTT 5: the Server Keep Alive sent instead; 3.x: CONNACK 0x02). */
    public int maxKeepAlive() {
        return maxKeepAlive;
    }

    /** MQTT 5 Receive Maximum the broker announces: QoS 1/2 PUBLISHes a client may have unacknowledged. */
    public int receiveMaximum() {
        return receiveMaximum;
    }

    /** Highest QoS the broker supports (MQTT 5 Maximum QoS). */
    public int maxQos() {
        return maxQos;
    }

    /** Whether retained messages are supported. */
    public boolean retainAvailable() {
        return retainAvailable;
    }

    /** Whether filters with + and # are allowed. */
    public boolean wildcardSubscriptionAvailable() {
        return wildcardSubscriptionAvailable;
    }

    /** Whether MQTT 5 subscription identifiers are supported. */
    public boolean subscriptionIdentifierAvailable() {
        return subscriptionIdentifierAvailable;
    }

    /** Whether $share/ subscriptions are supported. */
    public boolean sharedSubscriptionAvailable() {
        return sharedSubscriptionAvailable;
    }

    /** MQTT 5 Topic Alias Maximum the broker accepts from a client. */
    public int maxTopicAlias() {
        return maxTopicAlias;
    }

    /** Cap on an MQTT 5 client's Session Expiry Interval, seconds (4294967295 = no cap). */
    public long maxSessionExpiryInterval() {
        return maxSessionExpiryInterval;
    }

    /** Prefix for MQTT 5 Response Information (client id appended); empty: not offered. */
    public String responseInformation() {
        return responseInformation;
    }

    /** How a shared subscription group picks a member. */
    public String sharedSubscriptionStrategy() {
        return sharedSubscriptionStrategy;
    }

    /** Where sessions, queues and retained messages live: rocksdb (on disk under data_dir) or memory. */
    public String storageType() {
        return storageType;
    }

    /** When a write counts as stored: fsync (synced before acknowledging), periodic, or none. */
    public String storageDurability() {
        return storageDurability;
    }

    /** With storage.durability periodic: how often the write-ahead log is synced. */
    public int storageSyncIntervalMillis() {
        return storageSyncIntervalMillis;
    }

    /** Payload bytes a session queues beyond the in-flight window; 0: no byte limit. */
    public long maxQueuedBytes() {
        return maxQueuedBytes;
    }

    /** When a session's queue is full: refuse_new drops the new message, drop_oldest the oldest queued. */
    public String queueOverflowPolicy() {
        return queueOverflowPolicy;
    }

    /** What a full queue means to an MQTT 3.x QoS 1/2 publisher: ack (acknowledge, count the drop) or disconnect. */
    public String queueOverflowV3Action() {
        return queueOverflowV3Action;
    }

    /** Retained messages kept at most; negative: no cap. */
    public long retainedMaxCount() {
        return retainedMaxCount;
    }

    /** Retained payload bytes kept at most; negative: no cap. */
    public long retainedMaxBytes() {
        return retainedMaxBytes;
    }

    /** Seconds after which an MQTT 3.x persistent session that stays offline is removed; 0: never. */
    public long persistentClientExpiration() {
        return persistentClientExpiration;
    }

    /** Longest topic name or filter accepted, in UTF-8 bytes. */
    public int maxTopicLength() {
        return maxTopicLength;
    }

    /** Most levels (parts between '/') a topic name or filter may have. */
    public int maxTopicLevels() {
        return maxTopicLevels;
    }

    /** PUBLISH packets per second one client may send; above it the broker stops reading from it for a while. 0: no limit. */
    public int maxPublishRate() {
        return maxPublishRate;
    }

    /** I/O event loops (threads serving connections); 0: one per core but one, at least one. */
    public int ioThreads() {
        return ioThreads;
    }

    /** Root log level. */
    public String logLevel() {
        return logLevel;
    }

    /** Mutable collector of settings; {@link #build()} fills in the default listener when none was given. */
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
        private String sharedSubscriptionStrategy = "round_robin";
        private String storageType = "rocksdb";
        private String storageDurability = "fsync";
        private int storageSyncIntervalMillis = 100;
        private long maxQueuedBytes = 0L;
        private String queueOverflowPolicy = "refuse_new";
        private String queueOverflowV3Action = "ack";
        private long retainedMaxCount = -1L;
        private long retainedMaxBytes = -1L;
        private long persistentClientExpiration = 0L;
        private int maxTopicLength = 65_535;
        private int maxTopicLevels = 201;
        private int maxPublishRate = 0;
        private int ioThreads = 0;
        private String logLevel = "info";
        private final ListenerSettings listenerDefaults = new ListenerSettings();
        private boolean listenersConfigured;
        private int authFailureDelayMillis = 1000;
        private int authFailureDelayMaxMillis = 8000;
        private int maxOutboundBuffer = 8 * 1024 * 1024;
        private String slowConsumerPolicy = "drop_qos0";
        private int slowConsumerTimeoutSeconds = 60;

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

        public Builder slowConsumerPolicy(String policy) {
            this.slowConsumerPolicy = policy;
            return this;
        }

        public Builder slowConsumerTimeoutSeconds(int seconds) {
            this.slowConsumerTimeoutSeconds = seconds;
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

        public Builder sharedSubscriptionStrategy(String sharedSubscriptionStrategy) {
            this.sharedSubscriptionStrategy = sharedSubscriptionStrategy;
            return this;
        }

        public Builder storageType(String storageType) {
            this.storageType = storageType;
            return this;
        }

        public Builder storageDurability(String storageDurability) {
            this.storageDurability = storageDurability;
            return this;
        }

        public Builder storageSyncIntervalMillis(int storageSyncIntervalMillis) {
            this.storageSyncIntervalMillis = storageSyncIntervalMillis;
            return this;
        }

        public Builder maxQueuedBytes(long maxQueuedBytes) {
            this.maxQueuedBytes = maxQueuedBytes;
            return this;
        }

        public Builder queueOverflowPolicy(String queueOverflowPolicy) {
            this.queueOverflowPolicy = queueOverflowPolicy;
            return this;
        }

        public Builder queueOverflowV3Action(String queueOverflowV3Action) {
            this.queueOverflowV3Action = queueOverflowV3Action;
            return this;
        }

        public Builder retainedMaxCount(long retainedMaxCount) {
            this.retainedMaxCount = retainedMaxCount;
            return this;
        }

        public Builder retainedMaxBytes(long retainedMaxBytes) {
            this.retainedMaxBytes = retainedMaxBytes;
            return this;
        }

        public Builder persistentClientExpiration(long persistentClientExpiration) {
            this.persistentClientExpiration = persistentClientExpiration;
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

        public Builder logLevel(String logLevel) {
            this.logLevel = logLevel;
            return this;
        }

        public BrokerConfig build() {
            return new BrokerConfig(this);
        }
    }
}
