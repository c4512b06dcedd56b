package io.ternmq.broker.admin;

import io.netty.util.NetUtil;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Which {@code Host} headers the admin listener answers: localhost, the loopback addresses, the address it is bound
 * to (or, bound to every address, the machine's name), and the address a connection reached. Any other name means a
 * page elsewhere made the browser send the request (DNS rebinding): 421.
 */
final class HostCheck {
    private final Set<String> names = new HashSet<>();

    /** @param hostName the machine's name, looked up once at start (never on the event loop); null if unknown */
    HostCheck(String bindAddress, String hostName) {
        names.add("localhost");
        names.add(bindAddress.toLowerCase(Locale.ROOT));
        if (hostName != null) {
            names.add(hostName.toLowerCase(Locale.ROOT));
        }
    }

    boolean allows(String hostHeader, InetSocketAddress reached) {
        if (hostHeader == null) {
            return false;
        }
        String host = hostOnly(hostHeader.strip()).toLowerCase(Locale.ROOT);
        if (names.contains(host)) {
            return true;
        }
        // an address literal: a loopback one, or the one this connection came in on (never a name look-up)
        byte[] literal = NetUtil.createByteArrayFromIpAddressString(host);
        if (literal == null) {
            return false;
        }
        try {
            InetAddress a = InetAddress.getByAddress(literal);
            return a.isLoopbackAddress() || (reached != null && a.equals(reached.getAddress()));
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    /** "name:port", "[v6]:port", "[v6]" or "name" without the port and brackets. */
    private static String hostOnly(String h) {
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end < 0 ? h : h.substring(1, end);
        }
        int colon = h.indexOf(':');
        return colon >= 0 && colon == h.lastIndexOf(':') ? h.substring(0, colon) : h;
    }
}
