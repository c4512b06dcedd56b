package io.ternmq.broker.security;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PasswordHashTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    @DisplayName("a $7$ hash (PBKDF2-SHA512, salted) verifies its password and nothing else")
    void roundTrip() {
        String h = PasswordHash.hash("s3cret-ü".toCharArray(), 1000);
        assertThat(h).matches("\\$7\\$1000\\$[A-Za-z0-9+/=]{16}\\$[A-Za-z0-9+/=]{88}");
        assertThat(PasswordHash.verify(utf8("s3cret-ü"), h)).isTrue();
        assertThat(PasswordHash.verify(utf8("s3cret-u"), h)).isFalse();
        assertThat(PasswordHash.verify(utf8(""), h)).isFalse();
        assertThat(PasswordHash.hash("s3cret-ü".toCharArray(), 1000)).as("fresh salt each time").isNotEqualTo(h);
    }

    @Test
    @DisplayName("the default cost is 210,000 iterations; fewer than 1,000 are refused when writing")
    void cost() {
        assertThat(PasswordHash.DEFAULT_ITERATIONS).isEqualTo(210_000);
        assertThatThrownBy(() -> PasswordHash.hash("x".toCharArray(), 999))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @DisplayName("hashes written by mosquitto_passwd 2.0 ($7$, 101 iterations) and 1.x ($6$) verify")
    void mosquittoHashes() {
        String pbkdf2 = "$7$101$KuZ6ZO+fYT5/klVy$FXpvOrxrXOE5p5oSrFL3AeBBFDJonocoSkvLjAPNij7G+ymALnssdOhlAKm9qkwqgti"
                + "PCW4HTvJf1d8K8KWhJQ==";
        assertThat(PasswordHash.verify(utf8("secret"), pbkdf2)).isTrue();
        assertThat(PasswordHash.verify(utf8("Secret"), pbkdf2)).isFalse();
        assertThat(PasswordHash.isWeak(pbkdf2)).as("101 iterations").isTrue();
        String sha512 = "$6$w2stdxIYNP3jX5jb$lumo2KgW6mCKp1sJkYJ92AKv1u/ghz3ShMrLUKfl5d8K6xcqPigLtDZkDkL1br09rjlNLYsHkLw"
                + "0GHzD63kDLQ==";
        assertThat(PasswordHash.verify(utf8("pw2"), sha512)).isTrue();
        assertThat(PasswordHash.verify(utf8("pw3"), sha512)).isFalse();
        assertThat(PasswordHash.isWeak(sha512)).isTrue();
        assertThat(PasswordHash.isWeak(PasswordHash.hash("x".toCharArray(), 1000))).isFalse();
    }

    @Test
    @DisplayName("plain text and unknown formats are not hashes")
    void unknownFormats() {
        assertThat(PasswordHash.isSupported("secret")).isFalse();
        assertThat(PasswordHash.isSupported("$5$abc$def")).isFalse();
        assertThat(PasswordHash.isSupported("$7$x$abc$def")).isFalse();
        assertThat(PasswordHash.isSupported("$7$10$!!$??")).isFalse();
        assertThatThrownBy(() -> PasswordHash.verify(utf8("x"), "secret")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @DisplayName("SCRAM credentials: RFC 7677's example values, and the RFC 5803 text form round-trips")
    void scramCredentials() {
        ScramCredentials c = ScramCredentials.derive("pencil".toCharArray(),
                java.util.Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
        String encoded = c.encode();
        assertThat(encoded).startsWith("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$");
        assertThat(ScramCredentials.parse(encoded)).isEqualTo(c);
        assertThatThrownBy(() -> ScramCredentials.parse("SCRAM-SHA-256$4096:abc")).isInstanceOf(
                IllegalArgumentException.class);
        assertThatThrownBy(() -> ScramCredentials.parse("SCRAM-SHA-1$4096:a$b:c")).isInstanceOf(
                IllegalArgumentException.class);
    }
}
