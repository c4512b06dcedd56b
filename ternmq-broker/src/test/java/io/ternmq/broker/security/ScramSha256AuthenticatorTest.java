package io.ternmq.broker.security;

import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.ReasonCode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** SCRAM-SHA-256 against RFC 7677's worked example and against broken or dishonest clients. */
class ScramSha256AuthenticatorTest {
    private static final String CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    private static final String SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    private static final String SERVER_FIRST =
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    private static final String CLIENT_FINAL = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    private static final String SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    private static final ScramCredentials PENCIL = ScramCredentials.derive("pencil".toCharArray(),
            Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);

    private final ScramSha256Authenticator scram =
            new ScramSha256Authenticator(Map.of("user", PENCIL)::get, () -> SERVER_NONCE);

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static AuthStep step(AuthExchange x, String data) {
        return x.respond(data == null ? null : b(data)).toCompletableFuture().join();
    }

    private AuthExchange start(String connectUsername) {
        return scram.start(new AuthRequest("c1", connectUsername, null, "127.0.0.1:1", MqttVersion.MQTT_5));
    }

    @Test
    @DisplayName("RFC 7677 section 3: server-first and server-final exactly as in the example")
    void rfc7677Example() {
        AuthExchange x = start(null);
        AuthStep first = step(x, CLIENT_FIRST);
        assertThat(first.outcome()).isEqualTo(AuthStep.Outcome.CONTINUE);
        assertThat(s(first.data())).isEqualTo(SERVER_FIRST);
        AuthStep last = step(x, CLIENT_FINAL);
        assertThat(last.outcome()).isEqualTo(AuthStep.Outcome.SUCCESS);
        assertThat(s(last.data())).isEqualTo(SERVER_FINAL);
        assertThat(scram.method()).isEqualTo("SCRAM-SHA-256");
    }

    @Test
    @DisplayName("a CONNECT user name that matches the SCRAM user is fine")
    void matchingConnectUsername() {
        AuthExchange x = start("user");
        step(x, CLIENT_FIRST);
        assertThat(step(x, CLIENT_FINAL).outcome()).isEqualTo(AuthStep.Outcome.SUCCESS);
    }

    @Test
    @DisplayName("a wrong proof fails with 0x86 bad user name or password")
    void wrongProof() {
        AuthExchange x = start(null);
        step(x, CLIENT_FIRST);
        String tampered = CLIENT_FINAL.replace("p=dHzb", "p=dHzc");
        AuthStep last = step(x, tampered);
        assertThat(last.outcome()).isEqualTo(AuthStep.Outcome.FAILURE);
        assertThat(last.reasonCode()).isEqualTo(ReasonCode.BAD_USER_NAME_OR_PASSWORD);
    }

    @Test
    @DisplayName("an unknown user gets a plausible challenge (no user enumeration), then 0x86")
    void unknownUser() {
        AuthExchange x = start(null);
        AuthStep first = step(x, "n,,n=mallory,r=abc");
        assertThat(first.outcome()).isEqualTo(AuthStep.Outcome.CONTINUE);
        assertThat(s(first.data())).startsWith("r=abc" + SERVER_NONCE + ",s=").endsWith(",i=4096");
        // the same made-up salt each time, as a real user's would be
        AuthStep again = step(start(null), "n,,n=mallory,r=abc");
        assertThat(s(again.data())).isEqualTo(s(first.data()));
        AuthStep last = step(x, "c=biws,r=abc" + SERVER_NONCE + ",p=" + Base64.getEncoder().encodeToString(new byte[32]));
        assertThat(last.reasonCode()).isEqualTo(ReasonCode.BAD_USER_NAME_OR_PASSWORD);
    }

    @Test
    @DisplayName("a CONNECT user name other than the SCRAM user fails at once with 0x86")
    void otherConnectUsername() {
        AuthStep first = step(start("admin"), CLIENT_FIRST);
        assertThat(first.outcome()).isEqualTo(AuthStep.Outcome.FAILURE);
        assertThat(first.reasonCode()).isEqualTo(ReasonCode.BAD_USER_NAME_OR_PASSWORD);
    }

    @Test
    @DisplayName("malformed messages, channel binding, a wrong nonce or binding fail with 0x87")
    void malformed() {
        for (String bad : new String[] {"", "n=user,r=abc", "n,,r=abc,n=user", "p=tls-unique,,n=user,r=abc",
                "n,,n=us=er,r=abc", "n,,n=,r=abc", "n,,m=ext,n=user,r=abc"}) {
            AuthStep st = step(start(null), bad);
            assertThat(st.outcome()).as(bad).isEqualTo(AuthStep.Outcome.FAILURE);
            assertThat(st.reasonCode()).as(bad).isEqualTo(ReasonCode.NOT_AUTHORIZED);
        }
        assertThat(step(start(null), null).reasonCode()).isEqualTo(ReasonCode.NOT_AUTHORIZED);
        AuthExchange x = start(null);
        step(x, CLIENT_FIRST);
        assertThat(step(x, CLIENT_FINAL.replace("r=rOpr", "r=XOpr")).reasonCode()).isEqualTo(ReasonCode.NOT_AUTHORIZED);
        AuthExchange y = start(null);
        step(y, CLIENT_FIRST);
        assertThat(step(y, CLIENT_FINAL.replace("c=biws", "c=eSws")).reasonCode()).isEqualTo(ReasonCode.NOT_AUTHORIZED);
        AuthExchange z = start(null);
        step(z, CLIENT_FIRST);
        assertThat(step(z, "c=biws,r=x").reasonCode()).isEqualTo(ReasonCode.NOT_AUTHORIZED);
    }

    @Test
    @DisplayName("a third message after success is refused")
    void noThirdStep() {
        AuthExchange x = start(null);
        step(x, CLIENT_FIRST);
        step(x, CLIENT_FINAL);
        assertThat(step(x, CLIENT_FINAL).outcome()).isEqualTo(AuthStep.Outcome.FAILURE);
    }

    @Test
    @DisplayName("saslname escapes: =2C is ',', =3D is '='")
    void saslNames() {
        assertThat(ScramSha256Authenticator.saslName("a=2Cb=3Dc")).isEqualTo("a,b=c");
    }
}
