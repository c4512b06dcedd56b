package io.ternmq.broker.extension;

import io.ternmq.broker.config.ConfigException;
import io.ternmq.broker.metrics.RateLimitedLog;
import io.ternmq.broker.security.AuthRequest;
import io.ternmq.broker.security.AuthResult;
import io.ternmq.broker.security.Authenticator;
import io.ternmq.broker.security.Authorizer;
import io.ternmq.broker.security.ClientIdentity;
import io.ternmq.broker.security.SecurityContext;
import io.ternmq.broker.security.SecurityPlugin;
import io.ternmq.broker.security.SecurityProvider;
import io.ternmq.extension.api.AuthenticationInput;
import io.ternmq.extension.api.ClientInfo;
import io.ternmq.extension.api.ExtensionSecurity;
import io.ternmq.extension.api.ExtensionSecurityProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * An extension's {@link ExtensionSecurityProvider} as the broker's security takes providers: its answers become
 * {@link AuthResult}s and authorizations; a throw, a null or a failed stage refuses (authentication: 0x88 Server
 * unavailable; authorization: denied) and is logged at most once per 10 s. Calls run with the extension's class
 * loader as the thread's context loader, as its start does.
 */
final class ExtensionSecurityAdapter implements SecurityProvider {
    private static final Logger LOG = LoggerFactory.getLogger(ExtensionSecurityAdapter.class);
    private static final RateLimitedLog FAILURES = new RateLimitedLog(LOG, 10_000);

    private final ExtensionSecurityProvider provider;
    private final ExtensionDescriptor owner;
    private final ClassLoader loader;

    ExtensionSecurityAdapter(ExtensionSecurityProvider provider, ExtensionDescriptor owner, ClassLoader loader) {
        this.provider = provider;
        this.owner = owner;
        this.loader = loader;
    }

    @Override
    public String name() {
        return provider.name();
    }

    @Override
    public SecurityPlugin create(SecurityContext context) {
        String listener = context.listener().toString();
        ExtensionSecurity security;
        try {
            security = inLoader(() -> provider.create(listener, context.options()));
        } catch (RuntimeException | LinkageError e) {
            throw new ConfigException("listener " + listener + ": plugin '" + provider.name() + "' (extension '"
                    + owner.id() + "'): " + e.getMessage());
        }
        if (security == null) {
            throw new ConfigException("listener " + listener + ": plugin '" + provider.name() + "' (extension '"
                    + owner.id() + "') made no security");
        }
        return new Plugin(security);
    }

    private <T> T inLoader(Supplier<T> call) {
        Thread current = Thread.currentThread();
        ClassLoader previous = current.getContextClassLoader();
        current.setContextClassLoader(loader);
        try {
            return call.get();
        } finally {
            current.setContextClassLoader(previous);
        }
    }

    private void failed(String what, Throwable e) {
        FAILURES.warn("plugin '{}' (extension '{}') failed in {}: {}", provider.name(), owner.id(), what,
                e.toString());
    }

    /** The client as extensions see clients (made per call, which only an extension's authorizer pays for). */
    private static ClientInfo info(ClientIdentity c) {
        return new ClientDescription(c.clientId(), c.username(), c.protocolLevel(), c.remoteAddress(), c.listener());
    }

    private final class Plugin implements SecurityPlugin {
        private final ExtensionSecurity security;

        Plugin(ExtensionSecurity security) {
            this.security = security;
        }

        @Override
        public Authenticator authenticator() {
            return security.authenticates() ? this::authenticate : null;
        }

        private CompletionStage<AuthResult> authenticate(AuthRequest request) {
            CompletionStage<Boolean> answer;
            try {
                answer = inLoader(() -> security.authenticate(new Input(request)));
            } catch (RuntimeException | LinkageError e) {
                failed("authenticate", e);
                return CompletableFuture.completedFuture(AuthResult.SERVER_UNAVAILABLE);
            }
            if (answer == null) {
                failed("authenticate", new NullPointerException("it answered null"));
                return CompletableFuture.completedFuture(AuthResult.SERVER_UNAVAILABLE);
            }
            return answer.handle((accepted, error) -> {
                if (error != null) {
                    failed("authenticate", error);
                    return AuthResult.SERVER_UNAVAILABLE;
                }
                return Boolean.TRUE.equals(accepted) ? AuthResult.ACCEPTED : AuthResult.BAD_USER_NAME_OR_PASSWORD;
            });
        }

        @Override
        public Authorizer authorizer() {
            if (!security.authorizes()) {
                return null;
            }
            return new Authorizer() {
                @Override
                public CompletionStage<Boolean> mayPublish(ClientIdentity client, String topic) {
                    return decided("mayPublish", () -> security.mayPublish(info(client), topic));
                }

                @Override
                public CompletionStage<Boolean> maySubscribe(ClientIdentity client, String filter) {
                    return decided("maySubscribe", () -> security.maySubscribe(info(client), filter));
                }

                @Override
                public boolean mayReceive(ClientIdentity client, String topic) {
                    try {
                        return security.mayReceive(info(client), topic);
                    } catch (RuntimeException | LinkageError e) {
                        failed("mayReceive", e);
                        return false;
                    }
                }
            };
        }

        private CompletionStage<Boolean> decided(String what, Supplier<CompletionStage<Boolean>> call) {
            CompletionStage<Boolean> answer;
            try {
                answer = inLoader(call);
            } catch (RuntimeException | LinkageError e) {
                failed(what, e);
                return CompletableFuture.completedFuture(false);
            }
            if (answer == null) {
                failed(what, new NullPointerException("it answered null"));
                return CompletableFuture.completedFuture(false);
            }
            return answer.handle((allowed, error) -> {
                if (error != null) {
                    failed(what, error);
                    return false;
                }
                return Boolean.TRUE.equals(allowed);
            });
        }

        @Override
        public String describe() {
            return security.describe() + " (plugin '" + provider.name() + "' of extension '" + owner.id() + "')";
        }

        @Override
        public void reload() {
            try {
                inLoader(() -> {
                    security.reload();
                    return null;
                });
            } catch (RuntimeException | LinkageError e) {
                failed("reload", e);
            }
        }

        @Override
        public void close() {
            try {
                inLoader(() -> {
                    security.close();
                    return null;
                });
            } catch (RuntimeException | LinkageError e) {
                failed("close", e);
            }
        }
    }

    /** One CONNECT's credentials; the password a read-only view of the broker's copy. */
    private record Input(AuthRequest request) implements AuthenticationInput {
        @Override
        public String clientId() {
            return request.clientId();
        }

        @Override
        public String username() {
            return request.username();
        }

        @Override
        public ByteBuffer password() {
            return request.password() == null ? null : ByteBuffer.wrap(request.password()).asReadOnlyBuffer();
        }

        @Override
        public String remoteAddress() {
            return request.remoteAddress();
        }

        @Override
        public int protocolLevel() {
            return request.version().level();
        }

        @Override
        public String certificateCommonName() {
            return request.certificate() == null ? null : request.certificate().commonName();
        }
    }
}
