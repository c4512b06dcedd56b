package io.ternmq.broker.protocol;

import io.ternmq.broker.config.TopicFeatures;
import io.ternmq.broker.extension.InterceptorChain;
import io.ternmq.broker.routing.TopicRewrites;
import io.ternmq.broker.extension.SubscribeDecision;
import io.ternmq.broker.metrics.RateLimitedLog;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.trace.Trace;
import io.ternmq.broker.trace.Traces;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import io.ternmq.codec.TopicSyntax;
import io.ternmq.codec.Unsuback;
import io.ternmq.codec.Unsubscribe;
import io.ternmq.extension.api.SubscribeInboundInterceptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * SUBSCRIBE and UNSUBSCRIBE of a connected client: which filters the broker grants (syntax, features it offers,
 * topic limits, authorization, the subscription quota) and at which QoS, and the acknowledgement of each. Adding
 * and removing the subscriptions themselves is the broker service's; a new check on a SUBSCRIBE goes in
 * {@link #subscribe}. Stateless; runs on the connection's loop.
 */
final class SubscribeFlow {
    private static final Logger LOG = LoggerFactory.getLogger(SubscribeFlow.class);
    private static final RateLimitedLog DENIED_LOG = new RateLimitedLog(LOG, 10_000);

    private SubscribeFlow() {
    }

    static void onSubscribe(MqttConnection c, Subscribe packet) {
        Trace[] traced = c.broker.service().traces().active();
        if (traced.length != 0) {
            Traces.subscribe(traced, c.clientId, c.channel.remoteAddress(),
                    packet.subscriptions().stream().map(ts -> ts.filter() + " " + ts.qos().value()).toList());
        }
        // extensions first: the filters they change are the ones checked and authorized
        InterceptorChain<SubscribeInboundInterceptor, SubscribeDecision> extensions =
                c.broker.service().interceptors().subscribeInbound;
        if (extensions == null) {
            authorize(c, packet, null);
            return;
        }
        CompletableFuture<SubscribeDecision> later = new CompletableFuture<>();
        SubscribeDecision now = extensions.runNow(new SubscribeDecision(c.clientInfo(), packet, c.loop()),
                later::complete);
        if (now != null) {
            authorize(c, now.subscribe(), now);
        } else {
            // decided elsewhere: the client's later packets wait, in order, as for an authorization answer
            c.whenAnswered(later, null, d -> authorize(c, d.subscribe(), d));
        }
    }

    /** @param decision what the extensions decided (null without SubscribeInbound interceptors) */
    private static void authorize(MqttConnection c, Subscribe subscribe, SubscribeDecision decision) {
        Subscribe s = subscribe;
        SubscribeDecision refusals = decision;
        // ask the authorizer about every well-formed filter first; the answers may take a while
        List<TopicSubscription> requested = subscribe.subscriptions();
        List<CompletableFuture<Boolean>> answers = new ArrayList<>(requested.size());
        for (TopicSubscription ts : requested) {
            answers.add(TopicSyntax.isValidTopicFilter(ts.filter())
                    ? c.broker.authorizer().maySubscribe(c, ts.filter()).toCompletableFuture()
                    : CompletableFuture.completedFuture(true));
        }
        CompletionStage<List<Boolean>> all = CompletableFuture.allOf(answers.toArray(new CompletableFuture<?>[0]))
                .thenApply(x -> answers.stream().map(CompletableFuture::join).toList());
        c.whenAnswered(all, answers.stream().map(a -> false).toList(), allowed -> subscribe(c, s, allowed, refusals));
    }

    /** @param extensions what the extensions refused (null without SubscribeInbound interceptors) */
    private static void subscribe(MqttConnection c, Subscribe subscribe, List<Boolean> allowed,
                                  SubscribeDecision extensions) {
        List<TopicSubscription> requested = subscribe.subscriptions();
        int subscriptionId = subscriptionIdentifier(subscribe.properties());
        if (subscriptionId != 0 && !c.config().mqtt().subscriptionIdentifierAvailable()) {
            c.protocolViolation(ReasonCode.SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED,
                    "Subscription Identifier while subscription_identifier_available is false");
            return;
        }
        Dialect dialect = c.dialect();
        TopicRewrites rewrites = c.broker.service().subscribeRewrites();
        List<Integer> codes = new ArrayList<>(requested.size());
        List<Subscription> granted = new ArrayList<>(requested.size());
        // filters granted here that the session does not hold yet: they count against the quota at once
        java.util.Set<String> added = new java.util.HashSet<>();
        boolean refusedAny = false;
        for (int i = 0; i < requested.size(); i++) {
            TopicSubscription ts = requested.get(i);
            String filter = ts.filter();
            if (extensions != null && extensions.refusal(i) >= 0) {
                codes.add(dialect.subscriptionRefused(extensions.refusal(i)));
                refusedAny = true;
                continue;
            }
            if (!TopicSyntax.isValidTopicFilter(filter)) {
                codes.add(dialect.subscriptionRefused(ReasonCode.TOPIC_FILTER_INVALID));
                refusedAny = true;
                continue;
            }
            if (TopicSyntax.isSharedSubscription(filter) && !c.config().mqtt().sharedSubscriptionAvailable()) {
                c.protocolViolation(ReasonCode.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED,
                        "shared subscription while shared_subscription_available is false");
                return;
            }
            if (!c.config().mqtt().wildcardSubscriptionAvailable() && TopicSyntax.hasWildcard(filter)) {
                c.protocolViolation(ReasonCode.WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED,
                        "wildcard subscription while wildcard_subscription_available is false");
                return;
            }
            if (c.beyondTopicLimits(filter)) {
                codes.add(dialect.subscriptionRefused(ReasonCode.TOPIC_FILTER_INVALID));
                refusedAny = true;
                continue;
            }
            if (!allowed.get(i)) {
                c.broker.metrics().subscriptionsDenied.increment();
                DENIED_LOG.warn("Client '{}' may not subscribe to '{}'", c.clientId, filter);
                codes.add(dialect.subscriptionRefused(ReasonCode.NOT_AUTHORIZED));
                refusedAny = true;
                continue;
            }
            if (rewrites != null) {
                // authorized as the client sent it; subscribed as rewritten
                filter = rewrites.rewriteFilter(filter);
                if (!filter.equals(ts.filter()) && (!TopicSyntax.isValidTopicFilter(filter)
                        || c.beyondTopicLimits(filter))) {
                    codes.add(dialect.subscriptionRefused(ReasonCode.TOPIC_FILTER_INVALID));
                    refusedAny = true;
                    continue;
                }
            }
            int maxSubscriptions = c.config().mqtt().maxSubscriptionsPerClient();
            boolean held = c.session.subscription(filter) != null || added.contains(filter);
            if (maxSubscriptions >= 0 && !held && c.session.subscriptionCount() + added.size() >= maxSubscriptions) {
                codes.add(dialect.subscriptionRefused(ReasonCode.QUOTA_EXCEEDED));
                refusedAny = true;
                continue;
            }
            // the broker may grant less than asked: never above its maximum QoS
            QoS qos = ts.qos().value() > c.config().mqtt().maxQos() ? QoS.of(c.config().mqtt().maxQos()) : ts.qos();
            // a bridge (try_private) must not get back what it published, and forwards retained flags as they were
            boolean bridged = c.bridge && !TopicSyntax.isSharedSubscription(filter);
            if (bridged && filter.equals(io.ternmq.broker.bridge.BridgePeers.NOTIFICATIONS)) {
                io.ternmq.broker.bridge.BridgePeers peers = c.broker.service().bridgePeers();
                if (peers != null) {
                    peers.learningBridge(c.clientId); // a TernMQ bridge: it does not send back what comes here
                }
            }
            granted.add(new Subscription(filter, qos, ts.noLocal() || bridged, ts.retainAsPublished() || bridged,
                    ts.retainHandling(), subscriptionId));
            if (!held) {
                added.add(filter);
            }
            codes.add(qos.value());
        }
        if (refusedAny && c.version == MqttVersion.MQTT_3_1) {
            c.endConnection(ReasonCode.UNSPECIFIED_ERROR,
                    "refused a subscription, and MQTT 3.1 has no SUBACK failure code");
            return;
        }
        // routing has the subscriptions at once; the SUBACK waits until a stored session has them on disk, and the
        // retained messages follow it, with RETAIN set, on every matching SUBSCRIBE [MQTT-3.3.1-6]
        ResponseQueue.Response r = c.reserveResponse();
        Suback suback = new Suback(subscribe.packetId(), codes, MqttProperties.EMPTY);
        c.broker.service().subscribe(c.session, granted, sendRetained -> c.complete(r, suback, sendRetained));
    }

    /**
     * auto_subscribe: the configured subscriptions, {@code %c} and {@code %u} substituted (an entry is skipped when
     * the client id or user name it needs is missing or holds '+', '#' or '/', as ACL patterns are), each authorized
     * as the client's own SUBSCRIBE would be. Retained messages are sent when a subscription is new (retain handling
     * 1), so a resumed session is not sent them again. Runs once the session is attached, on the client's loop.
     */
    static void autoSubscribe(MqttConnection c, List<TopicFeatures.AutoSubscription> entries) {
        List<String> filters = new ArrayList<>(entries.size());
        List<Integer> qos = new ArrayList<>(entries.size());
        for (TopicFeatures.AutoSubscription e : entries) {
            String f = e.filter();
            if (f.contains("%u")) {
                if (!safeForPattern(c.username)) {
                    continue;
                }
                f = f.replace("%u", c.username);
            }
            if (f.contains("%c")) {
                if (!safeForPattern(c.clientId)) {
                    continue;
                }
                f = f.replace("%c", c.clientId);
            }
            if (!TopicSyntax.isValidTopicFilter(f) || c.beyondTopicLimits(f)) {
                continue;
            }
            filters.add(f);
            qos.add(Math.min(e.qos(), c.config().mqtt().maxQos()));
        }
        if (filters.isEmpty()) {
            return;
        }
        List<CompletableFuture<Boolean>> answers = new ArrayList<>(filters.size());
        for (String f : filters) {
            answers.add(c.broker.authorizer().maySubscribe(c, f).toCompletableFuture());
        }
        CompletionStage<List<Boolean>> all = CompletableFuture.allOf(answers.toArray(new CompletableFuture<?>[0]))
                .thenApply(x -> answers.stream().map(CompletableFuture::join).toList());
        c.whenAnswered(all, answers.stream().map(a -> false).toList(), allowed -> {
            List<Subscription> granted = new ArrayList<>(filters.size());
            for (int i = 0; i < filters.size(); i++) {
                if (!allowed.get(i)) {
                    c.broker.metrics().subscriptionsDenied.increment();
                    DENIED_LOG.warn("Client '{}' may not subscribe to '{}' (auto_subscribe): left out", c.clientId,
                            filters.get(i));
                    continue;
                }
                granted.add(new Subscription(filters.get(i), QoS.of(qos.get(i)), false, false, 1, 0));
            }
            if (!granted.isEmpty()) {
                c.broker.service().subscribe(c.session, granted, Runnable::run);
            }
        });
    }

    /** A name substituted into a filter must stay one level and not become a wildcard (as in ACL patterns). */
    private static boolean safeForPattern(String name) {
        return name != null && !name.isEmpty() && name.indexOf('/') < 0 && name.indexOf('+') < 0
                && name.indexOf('#') < 0;
    }

    private static int subscriptionIdentifier(MqttProperties props) {
        return props.subscriptionIdentifierCount() == 0 ? 0 : props.subscriptionIdentifier(0);
    }

    static void onUnsubscribe(MqttConnection c, Unsubscribe unsubscribe) {
        // [MQTT-3.10.4-5] UNSUBACK even when nothing was subscribed
        ResponseQueue.Response r = c.reserveResponse();
        TopicRewrites rewrites = c.broker.service().subscribeRewrites();
        List<String> filters = rewrites == null ? unsubscribe.filters()
                : unsubscribe.filters().stream().map(rewrites::rewriteFilter).toList();
        c.broker.service().unsubscribe(c.session, filters, had -> {
            List<Integer> codes = List.of();
            if (c.dialect().isV5()) {
                codes = new ArrayList<>(had.size());
                for (boolean h : had) {
                    codes.add(h ? ReasonCode.SUCCESS : ReasonCode.NO_SUBSCRIPTION_EXISTED);
                }
            }
            c.complete(r, new Unsuback(unsubscribe.packetId(), codes, MqttProperties.EMPTY), null);
        });
    }
}
