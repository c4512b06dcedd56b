package io.ternmq.broker.transport;

import io.ternmq.broker.config.Cidr;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * RFC 7239's {@code Forwarded} header, as far as the client's address goes: its elements (one per hop, comma
 * separated) and each element's {@code for=} node. Quoted strings are honoured when splitting, so a quoted
 * {@code "[2001:db8::1]:4711"} stays one value.
 */
final class ForwardedHeader {
    private ForwardedHeader() {
    }

    /** The forwarded-elements of one header value, left to right, each as written (pairs separated by ';'). */
    static List<String> elements(String value) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (quoted && c == '\\' && i + 1 < value.length()) {
                current.append(c).append(value.charAt(++i));
                continue;
            }
            if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                out.add(current.toString().trim());
                current.setLength(0);
                continue;
            }
            current.append(c);
        }
        out.add(current.toString().trim());
        return out;
    }

    /**
     * The address an element's {@code for=} names: an IPv4 address or a bracketed IPv6 address, with its port if
     * given. Null for {@code unknown}, an obfuscated identifier ({@code _hidden}), anything else, or no {@code for=}.
     */
    static InetSocketAddress forNode(String element) {
        String node = null;
        for (String pair : splitPairs(element)) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).trim().equalsIgnoreCase("for")) {
                node = unquote(pair.substring(eq + 1).trim());
                break;
            }
        }
        if (node == null || node.isEmpty()) {
            return null;
        }
        String host;
        String port = null;
        if (node.startsWith("[")) {
            int end = node.indexOf(']');
            if (end < 0) {
                return null;
            }
            host = node.substring(1, end);
            if (end + 1 < node.length()) {
                if (node.charAt(end + 1) != ':') {
                    return null;
                }
                port = node.substring(end + 2);
            }
            if (host.indexOf(':') < 0) {
                return null; // brackets hold IPv6 addresses only
            }
        } else {
            int colon = node.indexOf(':');
            if (colon >= 0 && colon != node.lastIndexOf(':')) {
                return null; // an IPv6 address must be bracketed (RFC 7239 §6)
            }
            host = colon < 0 ? node : node.substring(0, colon);
            port = colon < 0 ? null : node.substring(colon + 1);
            if (host.indexOf('.') < 0) {
                return null; // "unknown", "_obfuscated", or something that is no IPv4 address
            }
        }
        InetAddress address = Cidr.literal(host);
        if (address == null) {
            return null;
        }
        return new InetSocketAddress(address, port(port));
    }

    /** A numeric port; 0 (unknown) for none or an obfuscated one ({@code _port}). */
    private static int port(String port) {
        if (port == null || port.isEmpty() || port.length() > 5 || !port.chars().allMatch(Character::isDigit)) {
            return 0;
        }
        int p = Integer.parseInt(port);
        return p <= 65535 ? p : 0;
    }

    private static List<String> splitPairs(String element) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < element.length(); i++) {
            char c = element.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (c == ';' && !quoted) {
                out.add(current.toString().trim());
                current.setLength(0);
                continue;
            }
            current.append(c);
        }
        out.add(current.toString().trim());
        return out;
    }

    private static String unquote(String v) {
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
            return v.substring(1, v.length() - 1).replaceAll("\\\\(.)", "$1");
        }
        return v;
    }
}
