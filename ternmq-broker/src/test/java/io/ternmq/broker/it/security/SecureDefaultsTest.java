package io.ternmq.broker.it.security;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.ternmq.broker.Broker;
import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.config.ConfigFileParser;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.SecureBroker;
import io.ternmq.broker.testing.TestPki;
import io.ternmq.broker.transport.MqttServer;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.ReasonCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Loopback and anonymous without a configuration; anonymous refused once listeners are configured; the log says so. */
class SecureDefaultsTest {
    @TempDir
    Path dir;
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private Logger serverLogger;

    @BeforeEach
    void captureLog() {
        serverLogger = (Logger) LoggerFactory.getLogger(MqttServer.class);
        serverLogger.setLevel(ch.qos.logback.classic.Level.INFO);
        serverLogger.addAppender(log);
        log.start();
    }

    @AfterEach
    void releaseLog() {
        serverLogger.detachAppender(log);
        serverLogger.setLevel(null);
    }

    private List<String> lines() {
        return log.list.stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()).toList();
    }

    private static int anonymousConnack(int port) {
        try (RawClient c = new RawClient(port)) {
            c.send(new Connect(MqttVersion.MQTT_3_1_1, "anon", true, 30, null, null, null, MqttProperties.EMPTY));
            return c.read(Connack.class).reasonCode();
        }
    }

    @Test
    @DisplayName("no configuration file: 127.0.0.1 only, anonymous clients accepted, and the log says it")
    void noConfiguration() throws Exception {
        // what 'ternmq --port 0' builds: the default listener, moved to a free port
        BrokerConfig.Builder b = BrokerConfig.builder().dataDir(dir).storageType("memory");
        b.listeners().add(b.defaultListener().withAddress("127.0.0.1", 0));
        BrokerConfig config = b.build();
        assertThat(config.transport().listeners().get(0).bindAddress()).isEqualTo("127.0.0.1");
        try (Broker broker = Broker.start(config)) {
            assertThat(anonymousConnack(broker.port())).isZero();
        }
        assertThat(lines()).anySatisfy(l -> assertThat(l).startsWith("INFO Listening for MQTT on 127.0.0.1:")
                .contains("plain TCP (no TLS)").contains("anonymous ALLOWED"));
        assertThat(lines()).noneMatch(l -> l.startsWith("WARN"));
    }

    @Test
    @DisplayName("a configured listener refuses anonymous clients (CONNACK 0x05) unless allow_anonymous true")
    void configuredListenersRefuseAnonymous() {
        try (SecureBroker b = SecureBroker.fromConfig("auth_failure_delay 0", "listener 0 127.0.0.1",
                "listener 0 127.0.0.1", "allow_anonymous true")) {
            assertThat(anonymousConnack(b.port(0))).isEqualTo(ReasonCode.V3_NOT_AUTHORIZED);
            assertThat(anonymousConnack(b.port(1))).isZero();
        }
        assertThat(lines()).anySatisfy(l -> assertThat(l).contains("anonymous refused"));
    }

    @Test
    @DisplayName("a file without listeners keeps the loopback default with anonymous access, like Mosquitto 2")
    void fileWithoutListeners() {
        BrokerConfig config = ConfigFileParser.parse("t.conf", List.of("max_queued_messages 10")).build();
        assertThat(config.transport().listeners().get(0).bindAddress()).isEqualTo("127.0.0.1");
        assertThat(config.allowAnonymous(config.transport().listeners().get(0))).isTrue();
    }

    @Test
    @DisplayName("the start-up log tells, per listener, address, TLS and authentication, and warns about exposure")
    void exposureLog() throws Exception {
        TestPki pki = TestPki.create(dir);
        TestPki.Issued server = pki.server("server");
        Path passwd = dir.resolve("passwd");
        Files.writeString(passwd, "");
        Path acl = dir.resolve("acl");
        Files.writeString(acl, "topic read public/#\n");
        try (SecureBroker b = SecureBroker.fromConfig(
                "listener 0 0.0.0.0",
                "allow_anonymous true",
                "listener 0 127.0.0.1",
                "certfile " + server.certFile(),
                "keyfile " + server.keyFile(),
                "cafile " + pki.ca.certFile(),
                "require_certificate true",
                "use_identity_as_username true",
                "password_file " + passwd,
                "acl_file " + acl,
                "max_connections 100")) {
            List<String> lines = lines();
            assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("INFO Listening for MQTT on 0.0.0.0:"
                    + b.port(0) + ": plain TCP (no TLS)").contains("anonymous ALLOWED"));
            assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("WARN Listener 0.0.0.0:" + b.port(0)
                    + " accepts anonymous clients from the network"));
            assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("WARN Listener 0.0.0.0:" + b.port(0)
                    + " is not encrypted"));
            assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("INFO Listening for MQTT on 127.0.0.1:"
                    + b.port(1) + ": TLS (TLSv1.3, TLSv1.2, JDK; client certificate required)")
                    .contains("certificate CN as user name").contains("password file " + passwd)
                    .contains("ACL file " + acl).contains("anonymous refused").contains("at most 100 connections"));
        }
    }
}
