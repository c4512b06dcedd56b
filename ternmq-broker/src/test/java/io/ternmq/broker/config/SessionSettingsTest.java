package io.ternmq.broker.config;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/** How long a session outlives its connection, under max_session_expiry_interval and persistent_client_expiration. */
class SessionSettingsTest {
    private static final long NEVER = 0xFFFF_FFFFL;

    private static SessionSettings settings(long maxSessionExpiryInterval, long persistentClientExpiration) {
        return new SessionSettings(true, "auto-", maxSessionExpiryInterval, persistentClientExpiration);
    }

    // persistent_client_expiration, asked for, used
    @ParameterizedTest(name = "cap {0}: {1} -> {2}")
    @CsvSource({
            "0, 4294967295, 4294967295",
            "0, 30, 30",
            "3600, 4294967295, 3600",
            "3600, 86400, 3600",
            "3600, 60, 60",
            "3600, 0, 0",
            "9223372036854775, 4294967295, 4294967295"})
    @DisplayName("persistent_client_expiration caps every expiry, 'never' included; 0 caps nothing")
    void capExpiry(long cap, long asked, long used) {
        assertThat(settings(NEVER, cap).capExpiry(asked)).isEqualTo(used);
    }

    // max_session_expiry_interval, persistent_client_expiration, asked for, used
    @ParameterizedTest(name = "max {0}, cap {1}: {2} -> {3}")
    @CsvSource({
            "4294967295, 0, 4294967295, 4294967295",
            "4294967295, 0, 120, 120",
            "60, 0, 120, 60",
            "4294967295, 30, 120, 30",
            "60, 30, 120, 30",
            "20, 30, 120, 20",
            "60, 30, 10, 10",
            "60, 30, 0, 0"})
    @DisplayName("an MQTT 5 client gets the shortest of what it asks for, max_session_expiry_interval and "
            + "persistent_client_expiration")
    void mqtt5Expiry(long max, long cap, long asked, long used) {
        assertThat(settings(max, cap).mqtt5Expiry(asked)).isEqualTo(used);
    }
}
