package io.ternmq.broker.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything the broker is configured with, immutable. Defaults follow Mosquitto 2 where it has the same setting
 * (docs/configuration.md lists each key, its default and why).
 */
public record BrokerConfig(
        List<ListenerConfig> listeners,
        Path dataDir,
        int maxPacketSize,
        int maxInflightMessages,
        int maxQueuedMessages,
        boolean queueQos0Messages,
        int connectTimeoutSeconds,
        boolean allowZeroLengthClientId,
        String autoIdPrefix,
        int maxConnections,
        int maxSubscriptionsPerClient,
        String logLevel) {

    public static final String DEFAULT_BIND = "127.0.0.1";
    public static final int DEFAULT_PORT = 1883;

    public BrokerConfig {
        listeners = List.copyOf(listeners);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.listeners.addAll(listeners);
        b.dataDir = dataDir;
        b.maxPacketSize = maxPacketSize;
        b.maxInflightMessages = maxInflightMessages;
        b.maxQueuedMessages = maxQueuedMessages;
        b.queueQos0Messages = queueQos0Messages;
        b.connectTimeoutSeconds = connectTimeoutSeconds;
        b.allowZeroLengthClientId = allowZeroLengthClientId;
        b.autoIdPrefix = autoIdPrefix;
        b.maxConnections = maxConnections;
        b.maxSubscriptionsPerClient = maxSubscriptionsPerClient;
        b.logLevel = logLevel;
        return b;
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
        private String logLevel = "info";

        private Builder() {
        }

        public Builder listener(String bindAddress, int port) {
            listeners.add(new ListenerConfig(bindAddress, port));
            return this;
        }

        public Builder clearListeners() {
            listeners.clear();
            return this;
        }

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

        public Builder allowZeroLengthClientId(boolean allow) {
            this.allowZeroLengthClientId = allow;
            return this;
        }

        public Builder autoIdPrefix(String autoIdPrefix) {
            this.autoIdPrefix = autoIdPrefix;
            return this;
        }

        /** Negative: no cap. */
        public Builder maxConnections(int maxConnections) {
            this.maxConnections = maxConnections;
            return this;
        }

        /** Negative: no cap. */
        public Builder maxSubscriptionsPerClient(int maxSubscriptionsPerClient) {
            this.maxSubscriptionsPerClient = maxSubscriptionsPerClient;
            return this;
        }

        public Builder logLevel(String logLevel) {
            this.logLevel = logLevel;
            return this;
        }

        public BrokerConfig build() {
            List<ListenerConfig> ls = listeners.isEmpty()
                    ? List.of(new ListenerConfig(DEFAULT_BIND, DEFAULT_PORT)) : listeners;
            return new BrokerConfig(ls, dataDir, maxPacketSize, maxInflightMessages, maxQueuedMessages,
                    queueQos0Messages, connectTimeoutSeconds, allowZeroLengthClientId, autoIdPrefix, maxConnections,
                    maxSubscriptionsPerClient, logLevel);
        }
    }
}
