package io.ternmq.broker.config;

import io.netty.util.NetUtil;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * A block of IP addresses written as CIDR ({@code 10.0.0.0/8}, {@code 2001:db8::/32}, or a single address): which
 * peers are trusted proxies ({@code websocket_trusted_proxies}). IPv4 and IPv6 blocks never match each other's
 * addresses.
 *
 * @param network      the block's first address (host bits cleared)
 * @param prefixLength how many leading bits an address must share with {@code network}
 */
public record Cidr(InetAddress network, int prefixLength) {

    /** Parses {@code address[/prefix]}; the address must be an IP literal (no name is looked up). */
    public static Cidr parse(String text) {
        int slash = text.indexOf('/');
        String host = slash < 0 ? text : text.substring(0, slash);
        InetAddress address = literal(host);
        if (address == null) {
            throw new IllegalArgumentException("'" + text + "' is not an IP address or CIDR block");
        }
        int bits = address.getAddress().length * 8;
        int prefix = bits;
        if (slash >= 0) {
            String p = text.substring(slash + 1);
            if (!p.matches("[0-9]{1,3}") || Integer.parseInt(p) > bits) {
                throw new IllegalArgumentException("'" + text + "': the prefix length must be 0.." + bits);
            }
            prefix = Integer.parseInt(p);
        }
        byte[] network = address.getAddress();
        for (int i = 0; i < network.length; i++) {
            network[i] &= mask(prefix, i);
        }
        try {
            return new Cidr(InetAddress.getByAddress(network), prefix);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** The address an IP literal names ("[v6]" too), or null if {@code s} is not one; never a DNS look-up. */
    public static InetAddress literal(String s) {
        String bare = s.startsWith("[") && s.endsWith("]") ? s.substring(1, s.length() - 1) : s;
        byte[] ip = NetUtil.createByteArrayFromIpAddressString(bare);
        if (ip == null) {
            return null;
        }
        try {
            return InetAddress.getByAddress(ip);
        } catch (UnknownHostException e) {
            return null; // only for a wrong length, which NetUtil rules out
        }
    }

    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        byte[] n = network.getAddress();
        if (a.length != n.length) {
            return false;
        }
        for (int i = 0; i < a.length; i++) {
            if ((a[i] & mask(prefixLength, i)) != (n[i] & 0xFF)) {
                return false;
            }
        }
        return true;
    }

    private static int mask(int prefix, int byteIndex) {
        int bits = Math.max(0, Math.min(8, prefix - byteIndex * 8));
        return (0xFF << (8 - bits)) & 0xFF;
    }

    @Override
    public String toString() {
        return network.getHostAddress() + "/" + prefixLength;
    }
}
