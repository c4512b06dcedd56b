package io.ternmq.broker.security;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Authorization by an ACL file ({@link AclFile}), reloaded when the file changes. Every answer comes from memory at
 * once; receive decisions are cached per client identity and topic until the next reload.
 */
public final class AclAuthorizer implements Authorizer {
    private static final CompletionStage<Boolean> YES = CompletableFuture.completedFuture(true);
    private static final CompletionStage<Boolean> NO = CompletableFuture.completedFuture(false);

    private final ReloadingFile<AclFile> file;

    public AclAuthorizer(ReloadingFile<AclFile> file) {
        this.file = file;
    }

    @Override
    public CompletionStage<Boolean> mayPublish(ClientIdentity client, String topic) {
        return file.current().mayPublish(client.username(), client.clientId(), topic) ? YES : NO;
    }

    @Override
    public CompletionStage<Boolean> maySubscribe(ClientIdentity client, String filter) {
        return file.current().maySubscribe(client.username(), client.clientId(), filter) ? YES : NO;
    }

    @Override
    public boolean mayReceive(ClientIdentity client, String topic) {
        return file.current().mayReceive(client.username(), client.clientId(), topic);
    }
}
