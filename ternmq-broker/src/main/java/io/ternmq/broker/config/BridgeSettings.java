package io.ternmq.broker.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One {@code connection} section: a bridge to another MQTT broker, in Mosquitto's keys (docs/bridges.md maps each).
 *
 * @param name                 the section's name ({@code connection <name>})
 * @param addresses            {@code address}/{@code addresses}: where the remote broker is, tried in order
 * @param roundRobin           {@code round_robin}: after a failure try the next address and stay there (true), or
 *                             come back to the first, the primary, whenever it answers again (false)
 * @param topics               the {@code topic} lines, in file order
 * @param remoteClientId       the client id the bridge uses on the remote broker
 * @param localClientId        the id of the bridge's session here (no client can claim it)
 * @param remoteUsername       null: none
 * @param remotePassword       null: none
 * @param localUsername        whose access rules apply to what the bridge publishes and subscribes here; null: none
 * @param cleanSession         Clean Session/Start toward the remote broker
 * @param localCleanSession    whether the local session starts empty at each start of the broker
 * @param protocolVersion      {@code bridge_protocol_version}: 3 (mqttv31), 4 (mqttv311) or 5 (mqttv50)
 * @param tryPrivate           {@code try_private}: tell a 3.x remote broker it is a bridge (protocol level | 0x80)
 * @param keepAliveSeconds     {@code keepalive_interval}
 * @param restart              {@code restart_timeout}
 * @param notifications        {@code notifications}: the bridge's state as a retained 1/0 here and on the remote
 * @param notificationTopic    {@code notification_topic}; null: {@code $SYS/broker/connection/<remote_clientid>/state}
 * @param outgoingRetain       {@code bridge_outgoing_retain}: whether the retain flag goes out as it came in
 * @param maxPacketSize        {@code bridge_max_packet_size}: largest packet taken from the remote broker (0: the
 *                             broker's {@code max_packet_size})
 * @param tls                  null: plain TCP
 * @param maxQueuedMessages    {@code bridge_max_queued_messages}: messages the bridge's queue holds for the remote
 * @param maxQueuedBytes       {@code bridge_max_queued_bytes}; 0: no byte bound
 * @param dropOldest           {@code bridge_queue_overflow}: drop the oldest queued (true) or refuse the new one
 * @param maxInflight          {@code bridge_max_inflight}; the remote's Receive Maximum may lower it
 * @param ackTimeoutSeconds    {@code bridge_ack_timeout}: no acknowledgement this long while messages are in flight
 *                             reconnects
 * @param publishRate          {@code bridge_publish_rate}: messages per second at most toward the remote (0: no limit)
 * @param hopLimit             {@code bridge_hop_limit}: a message that crossed this many bridges is not forwarded
 */
public record BridgeSettings(String name, List<Address> addresses, boolean roundRobin, List<BridgeTopic> topics,
                             String remoteClientId, String localClientId, String remoteUsername,
                             String remotePassword, String localUsername, boolean cleanSession,
                             boolean localCleanSession, int protocolVersion, boolean tryPrivate,
                             int keepAliveSeconds, RestartTimeout restart, boolean notifications,
                             String notificationTopic, boolean outgoingRetain, int maxPacketSize, Tls tls,
                             int maxQueuedMessages, long maxQueuedBytes, boolean dropOldest, int maxInflight,
                             int ackTimeoutSeconds, int publishRate, int hopLimit) {

    public static final int DEFAULT_PORT = 1883;

    public BridgeSettings {
        addresses = List.copyOf(addresses);
        topics = List.copyOf(topics);
    }

    /** A remote broker's address: a host name (resolved again at every connection attempt) and port. */
    public record Address(String host, int port) {
        /** {@code host[:port]}; an IPv6 address needs its port (Mosquitto reads the last ':' as the separator). */
        public static Address parse(String v) {
            int colon = v.lastIndexOf(':');
            if (colon < 0) {
                return new Address(v, DEFAULT_PORT);
            }
            String host = v.substring(0, colon);
            if (host.isEmpty()) {
                throw new IllegalArgumentException("'" + v + "' has no host");
            }
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            return new Address(host, ConfigFileParser.intIn(v.substring(colon + 1), 1, 65_535));
        }

        @Override
        public String toString() {
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }
    }

    /**
     * {@code restart_timeout}: a constant delay between attempts ({@code base == cap}), or a backoff from
     * {@code base} doubling up to {@code cap} with jitter. A connection that lasted {@code stableSeconds} starts
     * the next backoff from {@code base} again (0: any connection that reached CONNACK does).
     */
    public record RestartTimeout(int baseSeconds, int capSeconds, int stableSeconds) {
        public static final RestartTimeout DEFAULT = new RestartTimeout(5, 30, 0);

        public boolean constant() {
            return baseSeconds == capSeconds;
        }
    }

    /**
     * TLS toward the remote broker ({@code bridge_cafile} switches it on).
     *
     * @param certFile null: no client certificate
     * @param insecure {@code bridge_insecure}: the server's host name is not checked against its certificate
     * @param alpn     null: none offered
     */
    public record Tls(Path caFile, Path certFile, Path keyFile, boolean insecure, TlsSettings.Version minVersion,
                      String alpn) {
    }

    /** Mutable collector of one section's keys; {@link #build} checks what no single key can. */
    public static final class Builder {
        final String name;
        final String where;
        final List<Address> addresses = new ArrayList<>();
        boolean roundRobin;
        final List<BridgeTopic> topics = new ArrayList<>();
        String remoteClientId;
        String localClientId;
        String remoteUsername;
        String remotePassword;
        String localUsername;
        boolean cleanSession;
        Boolean localCleanSession;
        int protocolVersion = 4;
        boolean tryPrivate = true;
        int keepAliveSeconds = 60;
        RestartTimeout restart = RestartTimeout.DEFAULT;
        boolean notifications = true;
        String notificationTopic;
        boolean outgoingRetain = true;
        int maxPacketSize;
        Path caFile;
        Path certFile;
        Path keyFile;
        boolean insecure;
        TlsSettings.Version tlsVersion = TlsSettings.Version.TLS_1_2;
        String alpn;
        int maxQueuedMessages = 100_000;
        long maxQueuedBytes;
        boolean dropOldest = true;
        int maxInflight = 100;
        int ackTimeoutSeconds = 60;
        int publishRate;
        int hopLimit = 4;

        /** @param where "file:line: connection", where problems of the whole section are reported */
        public Builder(String name, String where) {
            this.name = name;
            this.where = where;
        }

        public String where() {
            return where;
        }

        /** @param hostName this machine's name, for the default remote client id (Mosquitto's hostname.name) */
        public BridgeSettings build(String hostName) {
            if (addresses.isEmpty()) {
                throw new IllegalArgumentException("address is required in a connection section");
            }
            if (topics.isEmpty()) {
                throw new IllegalArgumentException("at least one topic line is required in a connection section");
            }
            if ((certFile == null) != (keyFile == null)) {
                throw new IllegalArgumentException("bridge_certfile and bridge_keyfile go together");
            }
            if (caFile == null && (certFile != null || insecure || alpn != null)) {
                throw new IllegalArgumentException("bridge_cafile is required for TLS toward the remote broker");
            }
            String remoteId = remoteClientId != null ? remoteClientId : hostName + "." + name;
            String localId = localClientId != null ? localClientId : "local." + remoteId;
            Tls tls = caFile == null ? null : new Tls(caFile, certFile, keyFile, insecure, tlsVersion, alpn);
            return new BridgeSettings(name, addresses, roundRobin, topics, remoteId, localId, remoteUsername,
                    remotePassword, localUsername, cleanSession,
                    localCleanSession != null ? localCleanSession : cleanSession, protocolVersion, tryPrivate,
                    keepAliveSeconds, restart, notifications, notificationTopic, outgoingRetain, maxPacketSize, tls,
                    maxQueuedMessages, maxQueuedBytes, dropOldest, maxInflight, ackTimeoutSeconds, publishRate,
                    hopLimit);
        }
    }

    /** The topic the bridge's state is published on: {@code notification_topic}, or Mosquitto's default. */
    public String stateTopic() {
        return notificationTopic != null ? notificationTopic : "$SYS/broker/connection/" + remoteClientId + "/state";
    }
}
