package io.ternmq.broker.transport;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;

import static org.assertj.core.api.Assertions.assertThat;

/** RFC 7239's grammar as far as {@code for=} goes; ForwardedForTest drives it through real upgrades and nginx. */
class ForwardedHeaderTest {

    @Test
    @DisplayName("elements split at commas outside quoted strings; pairs at semicolons; names case-insensitive")
    void elementsAndPairs() {
        assertThat(ForwardedHeader.elements("for=192.0.2.43, for=\"[2001:db8:cafe::17]:4711\";ext=\"a,b;c\", for=unknown"))
                .containsExactly("for=192.0.2.43", "for=\"[2001:db8:cafe::17]:4711\";ext=\"a,b;c\"", "for=unknown");
        assertThat(ForwardedHeader.forNode("proto=https;FOR=\"192.0.2.60:8080\";by=203.0.113.43"))
                .isEqualTo(new InetSocketAddress("192.0.2.60", 8080));
        assertThat(ForwardedHeader.forNode("for=\"[2001:db8:cafe::17]:4711\";ext=\"a,b;c\""))
                .isEqualTo(new InetSocketAddress("2001:db8:cafe::17", 4711));
    }

    @Test
    @DisplayName("nodes that name no address: unknown, obfuscated, unbracketed IPv6, host names, no for=")
    void noAddress() {
        for (String element : new String[] {"for=unknown", "for=_hidden", "for=\"_SEVKISEK\"",
                "for=\"2001:db8::1\"", "for=example.com", "by=192.0.2.1", "for=\"[192.0.2.1]\"", "for="}) {
            assertThat(ForwardedHeader.forNode(element)).as(element).isNull();
        }
        assertThat(ForwardedHeader.forNode("for=\"192.0.2.43:_gazonk\"")).as("an obfuscated port is unknown")
                .isEqualTo(new InetSocketAddress("192.0.2.43", 0));
    }
}
