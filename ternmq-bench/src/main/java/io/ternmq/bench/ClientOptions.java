package io.ternmq.bench;

import io.ternmq.codec.MqttVersion;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/** Options every scenario shares: where the broker is and how each client connects. */
final class ClientOptions {
    @Option(names = {"-h", "--host"}, defaultValue = "127.0.0.1", description = "broker host (default ${DEFAULT-VALUE})")
    String host;

    @Option(names = {"-p", "--port"}, defaultValue = "1883", description = "broker port (default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--sub-host", description = "subscribers connect to this host instead (another cluster node; "
            + "default: --host)")
    String subHost;

    @Option(names = "--sub-port", description = "subscribers connect to this port instead (default: --port)")
    Integer subPort;

    @Option(names = {"-V", "--mqtt-version"}, defaultValue = "3.1.1", converter = VersionConverter.class,
            description = "MQTT version: 3.1, 3.1.1 or 5 (default ${DEFAULT-VALUE})")
    MqttVersion version;

    @Option(names = {"-k", "--keepalive"}, defaultValue = "60",
            description = "keep alive in seconds; a PINGREQ goes out when a client has sent nothing for half of it "
                    + "(default ${DEFAULT-VALUE})")
    int keepAlive;

    @Option(names = "--persistent",
            description = "persistent sessions (clean session / clean start = 0; MQTT 5 with --session-expiry)")
    boolean persistent;

    @Option(names = "--session-expiry", defaultValue = "3600",
            description = "MQTT 5 session expiry interval of persistent sessions, seconds (default ${DEFAULT-VALUE})")
    long sessionExpiry;

    @Option(names = "--prefix", description = "client id prefix (default tb<random hex>-); ids are "
            + "<prefix><role><index>, e.g. tb1a2b-pub-0")
    String prefix;

    @Option(names = {"-u", "--username"}, description = "user name")
    String username;

    @Option(names = {"-P", "--password"}, description = "password")
    String password;

    @Option(names = "--tls", description = "connect with TLS")
    boolean tls;

    @Option(names = "--insecure", description = "with --tls: trust any server certificate (self-signed test brokers)")
    boolean insecure;

    @Option(names = "--cafile", description = "with --tls: PEM file of the certificate authorities to trust")
    Path caFile;

    @Option(names = "--transport", defaultValue = "tcp",
            description = "tcp, or ws: MQTT over WebSocket (wss with --tls) (default ${DEFAULT-VALUE})")
    String transport;

    @Option(names = "--ws-path", defaultValue = "/mqtt",
            description = "with --transport ws: the request path of the upgrade (default ${DEFAULT-VALUE})")
    String wsPath;

    @Option(names = "--threads", defaultValue = "0",
            description = "event loop threads; 0 (the default) = one per core")
    int threads;

    @Option(names = "--nio", description = "use Java NIO even where epoll is available")
    boolean nio;

    @Option(names = "--conn-rate", defaultValue = "1000",
            description = "new connections per second, 0 = as fast as possible (default ${DEFAULT-VALUE})")
    double connRate;

    @Option(names = "--max-connecting", defaultValue = "200",
            description = "connections in progress (TCP + CONNACK) at most (default ${DEFAULT-VALUE})")
    int maxConnecting;

    @Option(names = "--source-ips", defaultValue = "-1",
            description = "bind client sockets to this many source addresses 127.0.0.1, 127.0.0.2, ... (each has "
                    + "~28k ephemeral ports); 0 = let the kernel choose; default: 250 when the host is a loopback "
                    + "address, else 0")
    int sourceIps;

    @Option(names = "--connect-timeout", defaultValue = "60",
            description = "seconds to wait for all clients to be connected (and subscribed) (default ${DEFAULT-VALUE})")
    int connectTimeout;

    @Option(names = "--codec-decode",
            description = "decode every incoming packet with the codec's MqttDecoder (default: PUBLISH and its "
                    + "acknowledgements are parsed in place, without copies)")
    boolean codecDecode;

    @Option(names = "--quiet", description = "no progress lines")
    boolean quiet;

    String prefix() {
        if (prefix == null) {
            prefix = "tb" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000)) + "-";
        }
        return prefix;
    }

    boolean webSocket() {
        return switch (transport) {
            case "tcp" -> false;
            case "ws" -> true;
            default -> throw new IllegalArgumentException("--transport: '" + transport + "' is not tcp or ws");
        };
    }

    int threads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }

    static final class VersionConverter implements ITypeConverter<MqttVersion> {
        @Override
        public MqttVersion convert(String value) {
            return switch (value) {
                case "3.1", "3" -> MqttVersion.MQTT_3_1;
                case "3.1.1", "4" -> MqttVersion.MQTT_3_1_1;
                case "5", "5.0" -> MqttVersion.MQTT_5;
                default -> throw new TypeConversionException("'" + value + "' is not 3.1, 3.1.1 or 5");
            };
        }
    }

    /** Where subscribers connect: --sub-host/--sub-port where given, else where everyone connects. */
    String subscriberHost() {
        return subHost != null ? subHost : host;
    }

    int subscriberPort() {
        return subPort != null ? subPort : port;
    }

    /** True when subscribers connect somewhere else than publishers (a cluster run). */
    boolean splitSubscribers() {
        return !subscriberHost().equals(host) || subscriberPort() != port;
    }
}
