package io.ternmq.extension.sample;

import io.ternmq.extension.api.Async;
import io.ternmq.extension.api.ClientInfo;
import io.ternmq.extension.api.ClientLifecycleListener;
import io.ternmq.extension.api.ConnectInboundInput;
import io.ternmq.extension.api.ConnectInboundOutput;
import io.ternmq.extension.api.ExtensionContext;
import io.ternmq.extension.api.ExtensionMain;
import io.ternmq.extension.api.Fallback;
import io.ternmq.extension.api.MetricsService;
import io.ternmq.extension.api.PublishInboundOutput;
import io.ternmq.extension.api.PublishOutboundOutput;
import io.ternmq.extension.api.PublishService;
import io.ternmq.extension.api.ReasonCodes;
import io.ternmq.extension.api.SubscribeInboundOutput;
import io.ternmq.extension.api.UserProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * The sample extension (docs/extensions.md walks through it). What it does, by topic and client identifier, so that
 * each behaviour can be seen from an ordinary MQTT client:
 * <ul>
 *   <li>CONNECT: client {@code sample-banned} is refused (0x8A), {@code sample-moved...} redirected (0x9D with a
 *       Server Reference), {@code sample-rename-X} becomes {@code renamed-X};</li>
 *   <li>PUBLISH: {@code rewrite/...} gets its payload prefixed with {@code rewritten:}; {@code refuse/...} is not
 *       delivered (0x83); {@code moveto/X} is routed to {@code moved/X}; {@code async/ok/...} is decided on another
 *       thread after {@code async_delay_ms} (payload prefixed {@code async:}); {@code async/slow/...} decides too
 *       late, so its fallback (deliver unchanged) applies;</li>
 *   <li>SUBSCRIBE: {@code forbidden/...} is refused (0x87), {@code alias/news} becomes {@code news/#}; a SUBSCRIBE
 *       whose first filter is {@code async/sub/...} is decided on another thread after {@code async_delay_ms}, each
 *       {@code async/sub/X} becoming {@code X}; one starting {@code async/slowsub/...} decides too late, so its
 *       fallback (every filter refused, 0x80) applies;</li>
 *   <li>delivery: {@code secret/...} is skipped for receivers whose id starts with {@code nosy-}; {@code tagged/...}
 *       gets a User Property {@code receiver} naming each receiver;</li>
 *   <li>{@code sample/kick/<client id>} disconnects that client with 0x9C and a Server Reference
 *       ({@code ClientService}); {@code sample/subscribe/<client id>} subscribes its session to {@code injected/#}
 *       ({@code SubscriptionService}); {@code sample/forget} with a topic as payload removes that topic's
 *       retained message and publishes {@code <topic> <how many there were>} on {@code sample/info/forgot}
 *       ({@code RetainedService});</li>
 *   <li>lifecycle events are published on {@code sample/events/<event>/<client id>};</li>
 *   <li>at start it publishes, retained on {@code sample/info/picocli}, the picocli version it sees: its own bundled
 *       one, not the broker's.</li>
 * </ul>
 * Options come from {@code sample.properties} in the extension's folder, if present: {@code noop_only} (register a
 * PublishInbound that changes nothing, for benchmarks), {@code fail_start}, {@code async_delay_ms},
 * {@code async_slow_timeout_ms}.
 */
public final class SampleExtension implements ExtensionMain {
    private static final Logger LOG = LoggerFactory.getLogger(SampleExtension.class);

    private ExtensionContext context;
    private MetricsService.Counter rewritten;
    private long asyncDelayMillis;
    private long asyncSlowTimeoutMillis;

    @Override
    public void start(ExtensionContext context) throws Exception {
        this.context = context;
        Properties options = options(context.folder());
        if (Boolean.parseBoolean(options.getProperty("fail_start", "false"))) {
            throw new IllegalStateException("fail_start is set in sample.properties");
        }
        if (Boolean.parseBoolean(options.getProperty("noop_only", "false"))) {
            context.addPublishInbound((client, output) -> { });
            LOG.info("Sample extension {}: no-op PublishInbound only", context.version());
            return;
        }
        asyncDelayMillis = Long.parseLong(options.getProperty("async_delay_ms", "50"));
        asyncSlowTimeoutMillis = Long.parseLong(options.getProperty("async_slow_timeout_ms", "200"));
        rewritten = context.metrics().counter("publishes.rewritten");
        context.addConnectInbound(this::onConnect);
        context.addPublishInbound(this::onPublish);
        context.addSubscribeInbound(this::onSubscribe);
        context.addPublishOutbound(this::onDelivery);
        context.addClientLifecycleListener(new Events(context.publishService()));
        String picocli = String.valueOf(picocli.CommandLine.class.getField("VERSION").get(null));
        context.publishService().publish("sample/info/picocli", utf8(picocli), 1, true, List.of())
                .toCompletableFuture().get();
        LOG.info("Sample extension {} started; it sees picocli {}", context.version(), picocli);
    }

    @Override
    public void stop() {
        LOG.info("Sample extension stopped");
    }

    private void onConnect(ConnectInboundInput input, ConnectInboundOutput output) {
        String id = input.clientId();
        if (id.equals("sample-banned")) {
            output.refuse(ReasonCodes.BANNED, "banned by the sample extension");
        } else if (id.startsWith("sample-moved")) {
            output.redirect(ReasonCodes.SERVER_MOVED, "other.example.org:1883");
        } else if (id.startsWith("sample-rename-")) {
            output.clientId("renamed-" + id.substring("sample-rename-".length()));
        }
    }

    private void onPublish(ClientInfo client, PublishInboundOutput output) {
        String topic = output.topic();
        if (topic.startsWith("rewrite/")) {
            output.payload(prefixed("rewritten:", output.payload()));
            List<UserProperty> props = new ArrayList<>(output.userProperties());
            props.add(new UserProperty("sample", "rewritten"));
            output.userProperties(props);
            rewritten.increment();
        } else if (topic.startsWith("refuse/")) {
            output.preventDelivery(ReasonCodes.IMPLEMENTATION_SPECIFIC_ERROR, "refused by the sample extension");
        } else if (topic.startsWith("sample/kick/")) {
            // an administrator's request: send that client elsewhere; the request itself is not delivered
            context.clientService().disconnect(topic.substring("sample/kick/".length()),
                    ReasonCodes.USE_ANOTHER_SERVER, "backup.example.org:1883");
            output.preventDelivery(ReasonCodes.IMPLEMENTATION_SPECIFIC_ERROR, "handled by the sample extension");
        } else if (topic.startsWith("sample/subscribe/")) {
            context.subscriptionService().subscribe(topic.substring("sample/subscribe/".length()), "injected/#", 1);
        } else if (topic.equals("sample/forget")) {
            // RetainedService: remove the retained message of the topic in the payload; say how many there were
            String forget = StandardCharsets.UTF_8.decode(output.payload()).toString();
            int had = context.retainedService().matching(forget).size();
            context.retainedService().remove(forget);
            context.publishService().publish("sample/info/forgot", utf8(forget + " " + had), 1, false, List.of());
            output.preventDelivery(ReasonCodes.IMPLEMENTATION_SPECIFIC_ERROR, "handled by the sample extension");
        } else if (topic.startsWith("moveto/")) {
            output.topic("moved/" + topic.substring("moveto/".length()));
        } else if (topic.startsWith("async/ok/")) {
            Async async = output.async(Duration.ofSeconds(5), Fallback.refuse(ReasonCodes.UNSPECIFIED_ERROR));
            context.executor().schedule(() -> {
                output.payload(prefixed("async:", output.payload()));
                async.resume();
            }, Duration.ofMillis(asyncDelayMillis));
        } else if (topic.startsWith("async/slow/")) {
            Async async = output.async(Duration.ofMillis(asyncSlowTimeoutMillis), Fallback.proceedUnchanged());
            context.executor().schedule(() -> {
                output.payload(prefixed("late:", output.payload())); // ignored: the fallback already applied
                async.resume();
            }, Duration.ofMillis(asyncSlowTimeoutMillis * 5));
        }
    }

    private void onSubscribe(ClientInfo client, SubscribeInboundOutput output) {
        if (output.size() > 0 && output.filter(0).startsWith("async/sub/")) {
            // decided on another thread: each async/sub/X becomes X
            Async async = output.async(Duration.ofSeconds(5), Fallback.refuse(ReasonCodes.UNSPECIFIED_ERROR));
            context.executor().schedule(() -> {
                for (int i = 0; i < output.size(); i++) {
                    String filter = output.filter(i);
                    if (filter.startsWith("async/sub/")) {
                        output.filter(i, filter.substring("async/sub/".length()));
                    }
                }
                async.resume();
            }, Duration.ofMillis(asyncDelayMillis));
            return;
        }
        if (output.size() > 0 && output.filter(0).startsWith("async/slowsub/")) {
            // decides too late: the fallback (every filter refused with 0x80) applies
            Async async = output.async(Duration.ofMillis(asyncSlowTimeoutMillis),
                    Fallback.refuse(ReasonCodes.UNSPECIFIED_ERROR));
            context.executor().schedule(async::resume, Duration.ofMillis(asyncSlowTimeoutMillis * 5));
            return;
        }
        for (int i = 0; i < output.size(); i++) {
            String filter = output.filter(i);
            if (filter.startsWith("forbidden/")) {
                output.refuse(i, ReasonCodes.NOT_AUTHORIZED);
            } else if (filter.equals("alias/news")) {
                output.filter(i, "news/#");
            }
        }
    }

    private void onDelivery(String receiver, PublishOutboundOutput output) {
        String topic = output.topic();
        if (topic.startsWith("secret/") && receiver.startsWith("nosy-")) {
            output.skip();
        } else if (topic.startsWith("tagged/")) {
            List<UserProperty> props = new ArrayList<>(output.userProperties());
            props.add(new UserProperty("receiver", receiver));
            output.userProperties(props);
        }
    }

    private static ByteBuffer prefixed(String prefix, ByteBuffer payload) {
        byte[] p = prefix.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(p.length + payload.remaining());
        b.put(p).put(payload.duplicate()).flip();
        return b;
    }

    private static ByteBuffer utf8(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    private static Properties options(Path folder) throws IOException {
        Properties p = new Properties();
        Path file = folder.resolve("sample.properties");
        if (Files.exists(file)) {
            try (InputStream in = Files.newInputStream(file)) {
                p.load(in);
            }
        }
        return p;
    }

    /** Publishes each lifecycle event, so that any subscriber of sample/events/# sees it. */
    private static final class Events implements ClientLifecycleListener {
        private final PublishService publisher;

        Events(PublishService publisher) {
            this.publisher = publisher;
        }

        @Override
        public void onConnected(ClientInfo client) {
            event("connected", client.clientId(), "MQTT level " + client.protocolLevel());
        }

        @Override
        public void onDisconnected(ClientInfo client, boolean graceful) {
            event("disconnected", client.clientId(), graceful ? "graceful" : "ungraceful");
        }

        @Override
        public void onAuthenticationFailed(ClientInfo client, int reasonCode) {
            event("authentication-failed", client.clientId(), "0x" + Integer.toHexString(reasonCode));
        }

        @Override
        public void onSessionExpired(String clientId) {
            event("session-expired", clientId, "");
        }

        private void event(String what, String clientId, String detail) {
            publisher.publish("sample/events/" + what + "/" + clientId, utf8(detail), 1, false, List.of());
        }
    }
}
