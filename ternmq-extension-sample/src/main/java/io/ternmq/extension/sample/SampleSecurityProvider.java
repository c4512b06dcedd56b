package io.ternmq.extension.sample;

import io.ternmq.extension.api.AuthenticationInput;
import io.ternmq.extension.api.ClientInfo;
import io.ternmq.extension.api.ExtensionSecurity;
import io.ternmq.extension.api.ExtensionSecurityProvider;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * {@code plugin sample-security}: the sample's security provider (docs/extensions.md). One user,
 * {@code sample-user}, whose password is {@code plugin_opt_password} (required), answered 20 ms later from another
 * thread, as a remote back end would; publishing and subscribing under {@code plugin_opt_deny} (default
 * {@code sample-denied/}) are refused; topics with a {@code hidden} level are never delivered.
 */
public final class SampleSecurityProvider implements ExtensionSecurityProvider {
    @Override
    public String name() {
        return "sample-security";
    }

    @Override
    public ExtensionSecurity create(String listenerName, Map<String, String> options) {
        String password = options.get("password");
        if (password == null || password.isEmpty()) {
            throw new IllegalArgumentException("plugin_opt_password is required");
        }
        String deny = options.getOrDefault("deny", "sample-denied/");
        return new Security(listenerName, password.getBytes(StandardCharsets.UTF_8), deny);
    }

    private record Security(String listener, byte[] password, String deny) implements ExtensionSecurity {
        @Override
        public boolean authenticates() {
            return true;
        }

        @Override
        public CompletionStage<Boolean> authenticate(AuthenticationInput input) {
            boolean ok = "sample-user".equals(input.username()) && input.password() != null
                    && input.password().equals(ByteBuffer.wrap(password));
            return CompletableFuture.supplyAsync(() -> ok,
                    CompletableFuture.delayedExecutor(20, TimeUnit.MILLISECONDS));
        }

        @Override
        public boolean authorizes() {
            return true;
        }

        @Override
        public CompletionStage<Boolean> mayPublish(ClientInfo client, String topic) {
            return CompletableFuture.completedFuture(!topic.startsWith(deny));
        }

        @Override
        public CompletionStage<Boolean> maySubscribe(ClientInfo client, String filter) {
            return CompletableFuture.completedFuture(!filter.startsWith(deny));
        }

        @Override
        public boolean mayReceive(ClientInfo client, String topic) {
            return !("/" + topic + "/").contains("/hidden/");
        }

        @Override
        public String describe() {
            return "the sample's one user on " + listener + ", nothing under " + deny;
        }
    }
}
