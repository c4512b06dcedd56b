package io.ternmq.broker.config;

import io.ternmq.broker.config.TlsSettings.CertificateIdentity;
import io.ternmq.broker.config.TlsSettings.ClientCertificates;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Listener sections: per-listener keys, the defaults before the first listener, and the secure defaults. */
class ListenerSettingsTest {

    private static BrokerConfig parse(String... lines) {
        return ConfigFileParser.parse("test.conf", List.of(lines)).build();
    }

    @Test
    @DisplayName("each listener has its own TLS, authentication and connection settings")
    void perListener() {
        BrokerConfig c = parse(
                "listener 1883 127.0.0.1",
                "allow_anonymous true",
                "max_connections 10",
                "listener 8883",
                "certfile /tls/server.crt",
                "keyfile /tls/server.key",
                "cafile /tls/ca.crt",
                "crlfile /tls/ca.crl",
                "require_certificate true",
                "use_identity_as_username true",
                "tls_version tlsv1.3",
                "ciphers_tls1.3 TLS_AES_256_GCM_SHA384",
                "tls_provider openssl",
                "password_file /etc/passwd.mqtt",
                "acl_file /etc/acl.mqtt",
                "listener 8884 ::1",
                "keystore /tls/server.p12",
                "keystore_password changeit",
                "require_certificate optional",
                "cafile /tls/ca.crt",
                "use_subject_as_username true",
                "plugin http",
                "plugin_opt_http_url http://127.0.0.1:8080/auth",
                "max_connections 5");
        assertThat(c.transport().listeners()).hasSize(3);
        ListenerConfig plain = c.transport().listeners().get(0);
        assertThat(plain.isTls()).isFalse();
        assertThat(plain.maxConnections()).isEqualTo(10);
        assertThat(c.security().maxConnections()).as("the global cap is untouched").isEqualTo(-1);
        assertThat(c.allowAnonymous(plain)).isTrue();

        ListenerConfig tls = c.transport().listeners().get(1);
        assertThat(tls.bindAddress()).isEqualTo("0.0.0.0");
        assertThat(tls.tls().certFile()).isEqualTo(Path.of("/tls/server.crt"));
        assertThat(tls.tls().keyFile()).isEqualTo(Path.of("/tls/server.key"));
        assertThat(tls.tls().caFile()).isEqualTo(Path.of("/tls/ca.crt"));
        assertThat(tls.tls().crlFile()).isEqualTo(Path.of("/tls/ca.crl"));
        assertThat(tls.tls().clientCertificates()).isEqualTo(ClientCertificates.REQUIRED);
        assertThat(tls.tls().usernameFromCertificate()).isEqualTo(CertificateIdentity.CN);
        assertThat(tls.tls().protocols()).containsExactly("TLSv1.3");
        assertThat(tls.tls().ciphersTls13()).containsExactly("TLS_AES_256_GCM_SHA384");
        assertThat(ConfigFileParser.keyword(tls.tls().provider())).isEqualTo("openssl");
        assertThat(tls.auth().passwordFile()).isEqualTo(Path.of("/etc/passwd.mqtt"));
        assertThat(tls.auth().aclFile()).isEqualTo(Path.of("/etc/acl.mqtt"));
        assertThat(tls.maxConnections()).isEqualTo(-1);
        assertThat(c.allowAnonymous(tls)).as("Mosquitto 2: refused once listeners are configured").isFalse();

        ListenerConfig p12 = c.transport().listeners().get(2);
        assertThat(p12.bindAddress()).isEqualTo("::1");
        assertThat(p12.tls().keystore()).isEqualTo(Path.of("/tls/server.p12"));
        assertThat(p12.tls().keystorePassword()).isEqualTo("changeit");
        assertThat(p12.tls().clientCertificates()).isEqualTo(ClientCertificates.OPTIONAL);
        assertThat(p12.tls().usernameFromCertificate()).isEqualTo(CertificateIdentity.SUBJECT);
        assertThat(p12.tls().protocols()).containsExactly("TLSv1.3", "TLSv1.2");
        assertThat(p12.auth().plugins()).containsExactly("http");
        assertThat(p12.auth().pluginOptions()).containsExactly(Map.entry("http_url", "http://127.0.0.1:8080/auth"));
        assertThat(p12.auth().passwordFile()).as("not inherited from the previous listener").isNull();
        assertThat(p12.maxConnections()).isEqualTo(5);
    }

    @Test
    @DisplayName("per-listener keys before the first listener are defaults for every listener")
    void defaultsBeforeListeners() {
        BrokerConfig c = parse(
                "password_file /etc/p",
                "allow_anonymous false",
                "plugin_opt_x 1",
                "listener 1883",
                "listener 1884",
                "password_file /etc/q",
                "allow_anonymous true");
        assertThat(c.transport().listeners().get(0).auth().passwordFile()).isEqualTo(Path.of("/etc/p"));
        assertThat(c.transport().listeners().get(0).auth().pluginOptions()).containsEntry("x", "1");
        assertThat(c.allowAnonymous(c.transport().listeners().get(0))).isFalse();
        assertThat(c.transport().listeners().get(1).auth().passwordFile()).isEqualTo(Path.of("/etc/q"));
        assertThat(c.allowAnonymous(c.transport().listeners().get(1))).isTrue();
    }

    @Test
    @DisplayName("connection_rate_per_address is off by default and set per listener; before the first listener it is "
            + "every listener's default")
    void connectionRatePerListener() {
        assertThat(parse().transport().listeners().get(0).connectionRatePerAddress()).as("default: no limit").isZero();
        assertThat(parse("listener 1883").transport().listeners().get(0).connectionRatePerAddress()).isZero();
        BrokerConfig c = parse(
                "connection_rate_per_address 20",
                "listener 1883 127.0.0.1",
                "connection_rate_per_address 0",
                "listener 8883",
                "certfile a",
                "keyfile b",
                "listener 8884",
                "connection_rate_per_address 5");
        assertThat(c.transport().listeners()).extracting(ListenerConfig::connectionRatePerAddress)
                .containsExactly(0, 20, 5);
        assertThatThrownBy(() -> parse("listener 1", "connection_rate_per_address -1")).hasMessage(
                "test.conf:2: connection_rate_per_address: -1 is out of range 0..1000000");
    }

    @Test
    @DisplayName("without listener lines, the default loopback listener takes the defaults and allows anonymous")
    void defaultListener() {
        BrokerConfig c = parse("password_file /etc/p");
        assertThat(c.transport().listeners()).singleElement().satisfies(l -> {
            assertThat(l.bindAddress()).isEqualTo("127.0.0.1");
            assertThat(l.port()).isEqualTo(1883);
            assertThat(l.auth().passwordFile()).isEqualTo(Path.of("/etc/p"));
        });
        assertThat(c.transport().listenersConfigured()).isFalse();
        assertThat(c.allowAnonymous(c.transport().listeners().get(0))).isTrue();
        BrokerConfig closed = parse("allow_anonymous false");
        assertThat(closed.allowAnonymous(closed.transport().listeners().get(0))).isFalse();
    }

    @Test
    @DisplayName("a plain listener equals the two-argument ListenerConfig; withAddress keeps the settings")
    void recordCompatibility() {
        assertThat(parse("listener 1883").transport().listeners()).containsExactly(new ListenerConfig("0.0.0.0", 1883));
        ListenerConfig tls = parse("listener 8883", "certfile a", "keyfile b").transport().listeners().get(0);
        ListenerConfig moved = tls.withAddress("127.0.0.2", 9999);
        assertThat(moved.tls()).isEqualTo(tls.tls());
        assertThat(moved.toString()).isEqualTo("127.0.0.2:9999");
    }

    @Test
    @DisplayName("tls_version and tls_provider are enums: the setters take them, or their names as strings")
    void tlsVersionAndProvider() {
        ListenerConfig l = new ListenerSettings().certFile(Path.of("a")).keyFile(Path.of("b"))
                .minTlsVersion("TLSv1.3").tlsProvider("openssl").build("127.0.0.1", 0);
        assertThat(l.tls().minVersion()).isEqualTo(TlsSettings.Version.TLS_1_3);
        assertThat(l.tls().provider()).isEqualTo(TlsSettings.Provider.OPENSSL);
        ListenerConfig defaults = new ListenerSettings().certFile(Path.of("a")).keyFile(Path.of("b"))
                .build("127.0.0.1", 0);
        assertThat(defaults.tls().minVersion()).isEqualTo(TlsSettings.Version.TLS_1_2);
        assertThat(defaults.tls().provider()).isEqualTo(TlsSettings.Provider.JDK);
        assertThatThrownBy(() -> new ListenerSettings().minTlsVersion("TLSv1.1"))
                .hasMessage("'TLSv1.1' is not one of TLSv1.2, TLSv1.3");
        assertThatThrownBy(() -> new ListenerSettings().tlsProvider("boringssl"))
                .hasMessage("'boringssl' is not one of jdk, openssl");
        assertThatThrownBy(() -> parse("listener 1", "tls_provider boringssl"))
                .hasMessage("test.conf:2: tls_provider: 'boringssl' is not one of jdk, openssl");
        assertThatThrownBy(() -> parse("listener 1", "tls_version tlsv1.1"))
                .hasMessage("test.conf:2: tls_version: 'tlsv1.1' is not one of tlsv1.2, tlsv1.3");
    }

    @Test
    @DisplayName("a listener's transport kind follows from its settings: TLS with a certificate or key store, else TCP")
    void transportKind() {
        BrokerConfig c = parse("listener 1883", "listener 8883", "certfile a", "keyfile b", "listener 8884",
                "keystore c");
        assertThat(c.transport().listeners()).extracting(ListenerConfig::transport)
                .containsExactly(TransportKind.TCP, TransportKind.TLS, TransportKind.TLS);
        assertThat(new ListenerConfig("127.0.0.1", 0).transport()).isEqualTo(TransportKind.TCP);
    }

    private static final String PROXIED_ONLY = "require_certificate/use_identity_as_username need a TLS listener "
            + "(certfile and keyfile, or keystore), or enable_proxy_protocol 2 with proxy_protocol_v2_require_tls "
            + "true behind a proxy that terminates TLS";

    @Test
    @DisplayName("Mosquitto 2.1: require_certificate and use_identity_as_username on a PROXY v2 listener with proxy_protocol_v2_require_tls take what the proxy verified")
    void certificateCheckedByTheProxy() {
        ListenerConfig l = parse("listener 1883", "enable_proxy_protocol 2", "proxy_protocol_v2_require_tls true",
                "require_certificate true", "use_identity_as_username true").transport().listeners().get(0);
        assertThat(l.isTls()).isFalse();
        assertThat(l.proxiedCertificates()).isEqualTo(new ListenerConfig.ProxiedCertificates(
                io.ternmq.broker.config.TlsSettings.ClientCertificates.REQUIRED,
                io.ternmq.broker.config.TlsSettings.CertificateIdentity.CN));
        assertThat(l.usernameFromCertificate()).isEqualTo(io.ternmq.broker.config.TlsSettings.CertificateIdentity.CN);
        assertThat(parse("listener 1883", "enable_proxy_protocol 2").transport().listeners().get(0)
                .proxiedCertificates()).isNull();
    }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> contradictions() {
        return java.util.stream.Stream.<String[]>of(
                new String[] {"certfile needs keyfile", "listener 8883", "certfile a"},
                new String[] {"keyfile needs certfile", "listener 8883", "keyfile a"},
                new String[] {"certfile/keyfile and keystore both given; use one", "listener 8883", "certfile a",
                        "keyfile b", "keystore c"},
                new String[] {"require_certificate needs cafile (the CAs client certificates are checked against)",
                        "listener 8883", "certfile a", "keyfile b", "require_certificate true"},
                new String[] {"use_identity_as_username/use_subject_as_username need require_certificate true or "
                        + "optional", "listener 8883", "certfile a", "keyfile b", "cafile c",
                        "use_identity_as_username true"},
                new String[] {"crlfile needs cafile", "listener 8883", "certfile a", "keyfile b", "crlfile c"},
                new String[] {"cafile/crlfile need a TLS listener: give certfile and keyfile, or keystore",
                        "listener 1883", "cafile c"},
                new String[] {PROXIED_ONLY, "listener 1883", "require_certificate true"},
                new String[] {PROXIED_ONLY, "listener 1883", "enable_proxy_protocol 2", "require_certificate true"},
                new String[] {"use_identity_as_username needs require_certificate true or optional", "listener 1883",
                        "enable_proxy_protocol 2", "proxy_protocol_v2_require_tls true",
                        "use_identity_as_username true"},
                new String[] {"behind a PROXY v2 proxy only the certificate's CN is known (PP2_SUBTYPE_SSL_CN): "
                        + "use_subject_as_username and certificate_identity san need a TLS listener", "listener 1883",
                        "enable_proxy_protocol 2", "proxy_protocol_v2_require_tls true", "require_certificate true",
                        "use_subject_as_username true"})
                .map(a -> org.junit.jupiter.params.provider.Arguments.of((Object) a));
    }

    @ParameterizedTest
    @MethodSource("contradictions")
    @DisplayName("contradicting TLS settings stop the start, naming the listener's line")
    void contradictionsAreErrors(String[] caseLines) {
        String message = caseLines[0];
        String[] lines = java.util.Arrays.copyOfRange(caseLines, 1, caseLines.length);
        String[] withComment = new String[lines.length + 1];
        withComment[0] = "# first line";
        System.arraycopy(lines, 0, withComment, 1, lines.length);
        assertThatThrownBy(() -> parse(withComment)).isInstanceOf(ConfigException.class)
                .hasMessage("test.conf:2: listener: " + message);
    }

    @Test
    @DisplayName("bad values of per-listener keys name file, line and key")
    void badValues() {
        assertThatThrownBy(() -> parse("listener 1", "require_certificate maybe")).hasMessage(
                "test.conf:2: require_certificate: 'maybe' is not one of true, false, optional");
        assertThatThrownBy(() -> parse("tls_version tlsv1.1")).hasMessage(
                "test.conf:1: tls_version: 'tlsv1.1' is not one of tlsv1.2, tlsv1.3");
        assertThatThrownBy(() -> parse("listener 1", "allow_anonymous yes")).hasMessage(
                "test.conf:2: allow_anonymous: 'yes' is not true or false");
        assertThatThrownBy(() -> parse("plugin a/b")).hasMessage("test.conf:1: plugin: 'a/b' is not a plugin name");
        assertThatThrownBy(() -> parse("plugin_opt_x")).hasMessage("test.conf:1: plugin_opt_x: missing value");
        assertThatThrownBy(() -> parse("plugin_opt_ 1")).hasMessage("test.conf:1: plugin_opt_: unknown key");
        assertThatThrownBy(() -> parse("listener 1", "certfile")).hasMessage("test.conf:2: certfile: missing value");
        assertThatThrownBy(() -> parse("certfile a")).hasMessage("test.conf: certfile needs keyfile");
    }

    @Test
    @DisplayName("ciphers take OpenSSL's ':' lists")
    void cipherLists() {
        ListenerConfig l = parse("listener 1", "certfile a", "keyfile b",
                "ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384").transport().listeners().get(0);
        assertThat(l.tls().ciphers()).containsExactly("ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384");
    }

    @Test
    @DisplayName("protocol websockets, websocket_path, websocket_trusted_proxies, enable_proxy_protocol and proxy_protocol_v2_require_tls per listener")
    void webSocketAndProxyKeys() {
        BrokerConfig c = parse(
                "listener 1883",
                "enable_proxy_protocol 1",
                "listener 9001",
                "protocol websockets",
                "listener 9002",
                "protocol websockets",
                "websocket_path /ws",
                "websocket_trusted_proxies 10.0.0.0/8, 2001:db8::/32 127.0.0.1",
                "certfile a",
                "keyfile b",
                "enable_proxy_protocol 2",
                "proxy_protocol_v2_require_tls true");
        List<ListenerConfig> l = c.transport().listeners();
        assertThat(l.get(0).transport()).isEqualTo(TransportKind.TCP);
        assertThat(l.get(0).proxyProtocol()).isEqualTo(1);
        assertThat(l.get(1).transport()).isEqualTo(TransportKind.WEBSOCKET);
        assertThat(l.get(1).webSocket().path()).isEqualTo("/mqtt");
        assertThat(l.get(1).webSocket().trustedProxies()).isEmpty();
        assertThat(l.get(1).proxyProtocol()).isZero();
        assertThat(l.get(2).transport()).isEqualTo(TransportKind.WEBSOCKET_TLS);
        assertThat(l.get(2).webSocket().path()).isEqualTo("/ws");
        assertThat(l.get(2).webSocket().trustedProxies()).extracting(Cidr::toString)
                .containsExactly("10.0.0.0/8", "2001:db8:0:0:0:0:0:0/32", "127.0.0.1/32");
        assertThat(l.get(2).proxyProtocol()).isEqualTo(2);
        assertThat(l.get(2).proxyProtocolRequiresTls()).isTrue();
        assertThatThrownBy(() -> parse("listener 1", "protocol http")).hasMessage(
                "test.conf:2: protocol: 'http' is not one of mqtt, websockets, http_api");
        assertThatThrownBy(() -> parse("listener 1", "enable_proxy_protocol 3")).hasMessage(
                "test.conf:2: enable_proxy_protocol: 3 is out of range 1..2");
        assertThatThrownBy(() -> parse("listener 1", "proxy_protocol_v2_require_tls true")).hasMessage(
                "test.conf:1: listener: proxy_protocol_v2_require_tls needs enable_proxy_protocol 2");
        assertThatThrownBy(() -> parse("listener 1", "protocol websockets", "websocket_path mqtt"))
                .hasMessageContaining("websocket_path must start with /");
        assertThatThrownBy(() -> parse("listener 1", "websocket_trusted_proxies 10.0.0.0/40"))
                .hasMessage("test.conf:2: websocket_trusted_proxies: '10.0.0.0/40': the prefix length must be 0..32");
    }

    @Test
    @DisplayName("docs/configuration.md documents every per-listener key")
    void everyListenerKeyDocumented() throws IOException {
        String text = Files.readString(Path.of("..", "docs", "configuration.md"));
        for (String key : ConfigFileParser.listenerKeys()) {
            assertThat(text).as("docs/configuration.md mentions " + key).contains("`" + key + "`");
        }
        assertThat(text).contains("`plugin_opt_`");
        assertThat(ConfigFileParser.allKeys()).containsAll(ConfigFileParser.keys())
                .containsAll(ConfigFileParser.listenerKeys());
    }
}
