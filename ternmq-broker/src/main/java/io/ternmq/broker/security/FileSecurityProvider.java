package io.ternmq.broker.security;

import io.ternmq.broker.config.AuthSettings;
import io.ternmq.broker.config.ListenerConfig;

/**
 * {@code file}: Mosquitto's {@code password_file} and {@code acl_file}, both reloaded when they change (and on SIGHUP,
 * through {@link SharedResources#reload}). Used by every listener that has either; no {@code plugin} line needed.
 */
public final class FileSecurityProvider implements SecurityProvider {
    @Override
    public String name() {
        return "file";
    }

    @Override
    public boolean enabledByDefault(ListenerConfig listener) {
        AuthSettings a = listener.auth();
        return a.passwordFile() != null || a.aclFile() != null;
    }

    @Override
    public SecurityPlugin create(SecurityContext context) {
        AuthSettings a = context.listener().auth();
        ReloadingFile<PasswordFile> passwords = a.passwordFile() == null ? null
                : context.shared().passwordFile(a.passwordFile(), context.watcher());
        ReloadingFile<AclFile> acl = a.aclFile() == null ? null
                : context.shared().aclFile(a.aclFile(), context.watcher());
        Authenticator authenticator = passwords == null ? null
                : new PasswordFileAuthenticator(passwords, context.blockingWork());
        Authorizer authorizer = acl == null ? null : new AclAuthorizer(acl);
        return new SecurityPlugin() {
            @Override
            public Authenticator authenticator() {
                return authenticator;
            }

            @Override
            public Authorizer authorizer() {
                return authorizer;
            }

            @Override
            public String describe() {
                return (passwords == null ? "" : "password file " + passwords.file())
                        + (passwords != null && acl != null ? ", " : "")
                        + (acl == null ? "" : "ACL file " + acl.file());
            }
        };
    }
}
