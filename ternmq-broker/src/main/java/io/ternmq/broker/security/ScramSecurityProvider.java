package io.ternmq.broker.security;

import io.ternmq.broker.config.ListenerConfig;

import java.util.List;

/**
 * {@code scram-sha-256}: MQTT 5 enhanced authentication with method {@code SCRAM-SHA-256}, against the SCRAM
 * credentials of the listener's {@code password_file} (users added with {@code ternmq passwd --scram}). Offered on
 * every listener with a password file; a client uses it by naming the method in its CONNECT.
 */
public final class ScramSecurityProvider implements SecurityProvider {
    @Override
    public String name() {
        return "scram-sha-256";
    }

    @Override
    public boolean enabledByDefault(ListenerConfig listener) {
        return listener.auth().passwordFile() != null;
    }

    @Override
    public SecurityPlugin create(SecurityContext context) {
        if (context.listener().auth().passwordFile() == null) {
            throw new io.ternmq.broker.config.ConfigException("listener " + context.listener()
                    + ": plugin scram-sha-256 needs a password_file");
        }
        ReloadingFile<PasswordFile> passwords =
                context.shared().passwordFile(context.listener().auth().passwordFile(), context.watcher());
        ScramSha256Authenticator scram = new ScramSha256Authenticator(user -> {
            PasswordFile.Entry e = passwords.current().get(user);
            return e == null ? null : e.scram();
        });
        return new SecurityPlugin() {
            @Override
            public List<EnhancedAuthenticator> enhancedAuthenticators() {
                return List.of(scram);
            }

            @Override
            public String describe() {
                return "SCRAM-SHA-256 with " + passwords.file();
            }
        };
    }
}
