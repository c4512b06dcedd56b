package io.ternmq.broker.protocol;

import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.routing.Router;
import io.ternmq.broker.security.Authenticator;
import io.ternmq.broker.security.ConnectionLimit;
import io.ternmq.broker.security.EnhancedAuthenticator;

import java.util.Map;
import io.ternmq.broker.session.SessionRegistry;

/** The broker-wide collaborators every connection needs, wired once at start. */
public record BrokerContext(BrokerConfig config, SessionRegistry sessions, Router router, BrokerMetrics metrics,
                            Authenticator authenticator, Map<String, EnhancedAuthenticator> enhancedAuthenticators,
                            ConnectionLimit connectionLimit) {
}
