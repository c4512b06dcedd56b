package io.ternmq.broker.it.security;

import io.ternmq.broker.security.PasswordFile;
import io.ternmq.broker.security.PasswordHash;
import io.ternmq.broker.security.ScramCredentials;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.SecureBroker;
import io.ternmq.codec.Auth;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Pingreq;
import io.ternmq.codec.Pingresp;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.ReasonCode;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import static io.ternmq.broker.it.security.TlsClients.close;
import static io.ternmq.broker.it.security.TlsClients.mosquittoPub;
import static io.ternmq.broker.it.security.TlsClients.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** A listener with a password file: CONNECT credentials, reloads, mosquitto_pub, and SCRAM-SHA-256 (MQTT 5 AUTH). */
class PasswordAuthTest {
    @TempDir
    Path dir;
    Path passwd;

    @BeforeEach
    void passwords() throws IOException {
        passwd = dir.resolve("passwd");
        PasswordFile pf = PasswordFile.empty();
        pf.put(new PasswordFile.Entry("alice", PasswordHash.hash("wonderland".toCharArray(), 1000), null));
        pf.put(new PasswordFile.Entry("bob", PasswordHash.hash("builder".toCharArray(), 1000),
                ScramCredentials.derive("builder".toCharArray(), 4096)));
        pf.save(passwd);
    }

    private SecureBroker broker() {
        return SecureBroker.fromConfig("auth_failure_delay 0", "listener 0 127.0.0.1", "password_file " + passwd);
    }

    private static Connack connect(int port, MqttVersion v, String user, String password) {
        try (RawClient c = new RawClient(port).version(v)) {
            c.send(new Connect(v, "c-" + user, true, 30, user, password == null ? null
                    : password.getBytes(StandardCharsets.UTF_8), null, MqttProperties.EMPTY));
            return c.read(Connack.class);
        }
    }

    @Test
    @DisplayName("right password accepted; wrong password, unknown user 0x04/0x86; no user name 0x05/0x87")
    void credentials() {
        try (SecureBroker b = broker()) {
            int port = b.port();
            assertThat(connect(port, MqttVersion.MQTT_3_1_1, "alice", "wonderland").reasonCode()).isZero();
            assertThat(connect(port, MqttVersion.MQTT_5, "alice", "wonderland").reasonCode()).isZero();
            assertThat(connect(port, MqttVersion.MQTT_3_1_1, "alice", "Wonderland").reasonCode())
                    .isEqualTo(ReasonCode.V3_BAD_USER_NAME_OR_PASSWORD);
            assertThat(connect(port, MqttVersion.MQTT_5, "alice", "x").reasonCode())
                    .isEqualTo(ReasonCode.BAD_USER_NAME_OR_PASSWORD);
            assertThat(connect(port, MqttVersion.MQTT_3_1_1, "carol", "wonderland").reasonCode())
                    .isEqualTo(ReasonCode.V3_BAD_USER_NAME_OR_PASSWORD);
            assertThat(connect(port, MqttVersion.MQTT_3_1_1, "alice", null).reasonCode())
                    .isEqualTo(ReasonCode.V3_BAD_USER_NAME_OR_PASSWORD);
            assertThat(connect(port, MqttVersion.MQTT_3_1_1, null, null).reasonCode())
                    .isEqualTo(ReasonCode.V3_NOT_AUTHORIZED);
            assertThat(connect(port, MqttVersion.MQTT_5, null, null).reasonCode())
                    .isEqualTo(ReasonCode.NOT_AUTHORIZED);
        }
    }

    @Test
    @DisplayName("mosquitto_pub -u/-P authenticates against the password file")
    void mosquittoClient() {
        try (SecureBroker b = broker()) {
            assertThat(mosquittoPub(b.port(), "-u", "alice", "-P", "wonderland", "-t", "a", "-m", "b").exitCode())
                    .isZero();
            assertThat(mosquittoPub(b.port(), "-u", "alice", "-P", "nope", "-t", "a", "-m", "b").exitCode())
                    .isNotZero();
        }
    }

    @Test
    @DisplayName("a changed password file is used without a restart; connected clients stay")
    void reload() throws Exception {
        try (SecureBroker b = broker()) {
            MqttClient connected = TlsClients.paho("tcp", b.port(), "stays", options(null, "alice", "wonderland"));
            try {
                PasswordFile pf = PasswordFile.load(passwd);
                pf.put(new PasswordFile.Entry("alice", PasswordHash.hash("looking-glass".toCharArray(), 1000), null));
                pf.put(new PasswordFile.Entry("carol", PasswordHash.hash("c".toCharArray(), 1000), null));
                pf.save(passwd);
                await().atMost(Duration.ofSeconds(20)).until(() ->
                        connect(b.port(), MqttVersion.MQTT_3_1_1, "carol", "c").reasonCode() == 0);
                assertThat(connect(b.port(), MqttVersion.MQTT_3_1_1, "alice", "looking-glass").reasonCode()).isZero();
                assertThat(connect(b.port(), MqttVersion.MQTT_3_1_1, "alice", "wonderland").reasonCode())
                        .isEqualTo(ReasonCode.V3_BAD_USER_NAME_OR_PASSWORD);
                assertThat(connected.isConnected()).isTrue();
            } finally {
                close(connected);
            }
        }
    }

    private static MqttProperties scram(String data) {
        return MqttProperties.builder().set(PropertyId.AUTHENTICATION_METHOD, "SCRAM-SHA-256")
                .set(PropertyId.AUTHENTICATION_DATA, data.getBytes(StandardCharsets.UTF_8)).build();
    }

    private static String data(MqttProperties p) {
        return new String(p.getBinary(PropertyId.AUTHENTICATION_DATA), StandardCharsets.UTF_8);
    }

    /** Runs a SCRAM exchange. @return the CONNACK */
    private static Connack scramConnect(RawClient c, String connectUser, String user, String password)
            throws Exception {
        ScramClient sc = new ScramClient(user, password, "fyko+d2lbbFgONRv9qkxdawL");
        c.send(new Connect(MqttVersion.MQTT_5, "scram-" + user, true, 30, connectUser, null, null,
                scram(sc.clientFirst())));
        var first = c.read();
        if (first instanceof Connack refused) {
            return refused;
        }
        Auth challenge = (Auth) first;
        assertThat(challenge.reasonCode()).isEqualTo(ReasonCode.CONTINUE_AUTHENTICATION);
        c.send(new Auth(ReasonCode.CONTINUE_AUTHENTICATION, scram(sc.clientFinal(data(challenge.properties())))));
        Connack ack = c.read(Connack.class);
        if (ack.reasonCode() == 0) {
            assertThat(sc.verifyServerFinal(data(ack.properties()))).as("server proof").isTrue();
        }
        return ack;
    }

    @Test
    @DisplayName("SCRAM-SHA-256: a user with SCRAM credentials gets in and verifies the server; bad proofs get 0x86")
    void scramSha256() throws Exception {
        try (SecureBroker b = broker()) {
            try (RawClient c = new RawClient(b.port()).version(MqttVersion.MQTT_5)) {
                assertThat(scramConnect(c, "bob", "bob", "builder").reasonCode()).isZero();
                c.send(Pingreq.INSTANCE);
                assertThat(c.read()).isEqualTo(Pingresp.INSTANCE);
            }
            try (RawClient c = new RawClient(b.port()).version(MqttVersion.MQTT_5)) {
                assertThat(scramConnect(c, null, "bob", "wrong").reasonCode())
                        .isEqualTo(ReasonCode.BAD_USER_NAME_OR_PASSWORD);
                c.assertClosedByServer();
            }
            try (RawClient c = new RawClient(b.port()).version(MqttVersion.MQTT_5)) {
                assertThat(scramConnect(c, null, "alice", "wonderland").reasonCode())
                        .as("alice has no SCRAM credentials").isEqualTo(ReasonCode.BAD_USER_NAME_OR_PASSWORD);
            }
            try (RawClient c = new RawClient(b.port()).version(MqttVersion.MQTT_5)) {
                assertThat(scramConnect(c, "alice", "bob", "builder").reasonCode())
                        .as("CONNECT says alice, SCRAM says bob").isEqualTo(ReasonCode.BAD_USER_NAME_OR_PASSWORD);
            }
        }
    }

    @Test
    @DisplayName("a broken password file stops the start naming it")
    void brokenFile() throws IOException {
        java.nio.file.Files.writeString(passwd, "alice:plaintext\n");
        assertThatThrownBy(this::broker).isInstanceOf(io.ternmq.broker.config.ConfigException.class)
                .hasMessageContaining(passwd.toString()).hasMessageContaining("not hashed");
    }

    @Test
    @DisplayName("Paho with user name and password over the password file")
    void pahoClient() throws MqttException {
        try (SecureBroker b = broker()) {
            close(TlsClients.paho("tcp", b.port(), "p", options(null, "bob", "builder")));
            assertThatThrownBy(() -> TlsClients.paho("tcp", b.port(), "p", options(null, "bob", "x")))
                    .isInstanceOf(MqttException.class);
        }
    }
}
