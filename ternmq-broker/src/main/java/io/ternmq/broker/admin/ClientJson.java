package io.ternmq.broker.admin;

import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.session.ConnectionInfo;
import io.ternmq.broker.session.SessionInfo;

import java.util.LinkedHashMap;
import java.util.Map;

/** How the admin API shows a client's session and its subscriptions. */
final class ClientJson {
    private ClientJson() {
    }

    static Map<String, Object> session(SessionInfo s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("clientId", s.clientId());
        ConnectionInfo c = s.connection();
        m.put("connected", c != null);
        if (c != null) {
            m.put("address", c.remoteAddress());
            m.put("listener", c.listener());
            m.put("username", c.username());
            m.put("protocol", protocolName(c.protocolLevel()));
            m.put("connectedAt", java.time.Instant.ofEpochMilli(c.connectedAtMillis()).toString());
            m.put("transport", c.transport());
            m.put("addressVia", c.addressVia());
            m.put("messagesIn", c.messagesIn());
            m.put("messagesOut", c.messagesOut());
            m.put("bytesIn", c.bytesIn());
            m.put("bytesOut", c.bytesOut());
        }
        m.put("expiryInterval", s.expiryInterval() == 0xFFFFFFFFL ? null : s.expiryInterval());
        m.put("subscriptions", s.subscriptions());
        m.put("inflight", s.inflight());
        m.put("queued", s.queued());
        return m;
    }

    static String protocolName(int level) {
        return switch (level) {
            case 3 -> "3.1";
            case 4 -> "3.1.1";
            case 5 -> "5.0";
            default -> String.valueOf(level);
        };
    }

    static Map<String, Object> subscription(Subscription s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("filter", s.filter());
        m.put("qos", s.qos().value());
        m.put("noLocal", s.noLocal());
        m.put("retainAsPublished", s.retainAsPublished());
        m.put("retainHandling", s.retainHandling());
        if (s.subscriptionId() != 0) {
            m.put("subscriptionId", s.subscriptionId());
        }
        return m;
    }

    /** The host of an "address:port" (IPv6 addresses as Java writes them, without brackets). */
    static String host(String address) {
        return address == null ? null : AdminRouter.hostOf(address);
    }
}
