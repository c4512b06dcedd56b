package io.ternmq.broker.config;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CidrTest {

    private static InetAddress ip(String s) {
        return Cidr.literal(s);
    }

    @Test
    @DisplayName("IPv4 and IPv6 blocks contain their addresses only; a bare address is a block of one")
    void contains() {
        Cidr ten = Cidr.parse("10.1.2.3/8");
        assertThat(ten.toString()).isEqualTo("10.0.0.0/8");
        assertThat(ten.contains(ip("10.255.0.1"))).isTrue();
        assertThat(ten.contains(ip("11.0.0.1"))).isFalse();
        assertThat(ten.contains(ip("::ffff:10.0.0.1"))).as("an IPv4-mapped address is IPv4").isTrue();
        Cidr one = Cidr.parse("127.0.0.1");
        assertThat(one.contains(ip("127.0.0.1"))).isTrue();
        assertThat(one.contains(ip("127.0.0.2"))).isFalse();
        Cidr v6 = Cidr.parse("2001:db8::/32");
        assertThat(v6.contains(ip("2001:db8:ffff::1"))).isTrue();
        assertThat(v6.contains(ip("2001:db9::1"))).isFalse();
        assertThat(v6.contains(ip("10.0.0.1"))).isFalse();
        assertThat(Cidr.parse("0.0.0.0/0").contains(ip("203.0.113.1"))).isTrue();
        assertThat(Cidr.parse("192.168.1.128/25").contains(ip("192.168.1.127"))).isFalse();
    }

    @Test
    @DisplayName("names are never looked up; bad prefixes and non-addresses are refused")
    void refusals() {
        assertThat(Cidr.literal("localhost")).isNull();
        assertThat(Cidr.literal("1.2.3")).isNull();
        assertThat(Cidr.literal("[::1]")).isNotNull();
        assertThatThrownBy(() -> Cidr.parse("example.com/8")).hasMessageContaining("not an IP address");
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33")).hasMessageContaining("0..32");
        assertThatThrownBy(() -> Cidr.parse("::/129")).hasMessageContaining("0..128");
    }
}
