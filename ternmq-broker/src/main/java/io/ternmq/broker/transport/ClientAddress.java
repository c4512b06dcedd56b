package io.ternmq.broker.transport;

import io.netty.channel.ChannelHandlerContext;
import io.ternmq.broker.transport.ListenerRuntime.AddressSource;

import java.net.InetSocketAddress;

/**
 * The user event that tells the handlers after it who the client really is, when a proxy in front of the broker
 * named it (a PROXY protocol header, a trusted proxy's X-Forwarded-For). {@link MqttChannelAdapter} keeps it: logs,
 * authentication, the auth failure delay and everything else that asks for the connection's address then see the
 * client, not the proxy.
 *
 * @param address the client's address; port 0 when the proxy did not say
 * @param via     what named it, as the admin API shows it ({@code proxy_protocol}, {@code x_forwarded_for},
 *                {@code forwarded}), or null when no header was believed (an untrusted peer stays itself)
 */
record ClientAddress(InetSocketAddress address, String via) {
    static final String PROXY_PROTOCOL = "proxy_protocol";
    static final String X_FORWARDED_FOR = "x_forwarded_for";
    static final String FORWARDED = "forwarded";


    /**
     * Applies the listener's connection rate to the address (if this is where its addresses become final) and, if
     * admitted, announces it to the handlers after {@code ctx}.
     *
     * @return false if the connection was closed instead
     */
    static boolean resolved(ChannelHandlerContext ctx, ListenerRuntime listener, InetSocketAddress address,
                            AddressSource source, String via) {
        if (!listener.admit(address.getAddress(), source)) {
            ctx.close();
            return false;
        }
        ctx.fireUserEventTriggered(new ClientAddress(address, via));
        return true;
    }

    /** "host:port" ("[v6]:port", as the JDK writes socket addresses), or just the host when the port is unknown (0). */
    static String describe(InetSocketAddress a) {
        String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        if (a.getPort() == 0) {
            return host;
        }
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
