package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.EventExecutor;
import io.ternmq.broker.security.ReloadOutcome;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * {@code POST /api/v1/reload}: what SIGHUP does (password and ACL files re-read, caches dropped, TLS certificates
 * and keys rebuilt; connected clients stay), answering what each file did: a file that cannot be loaded keeps its
 * previous version and is listed with the reason (then the answer is 422). Reading files is disk I/O: it runs on a
 * thread of its own, never on the admin loop; one reload at a time (409 while one runs).
 */
final class ReloadRoute implements AdminRoute {
    private final Supplier<List<ReloadOutcome>> reload;
    private final EventExecutor loop;
    private final AtomicBoolean running = new AtomicBoolean();

    ReloadRoute(Supplier<List<ReloadOutcome>> reload, EventExecutor loop) {
        this.reload = reload;
        this.loop = loop;
    }

    @Override
    public String path() {
        return "/api/v1/reload";
    }

    @Override
    public Set<HttpMethod> methods() {
        return Set.of(HttpMethod.POST);
    }

    @Override
    public Access access() {
        return Access.USER;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        if (!running.compareAndSet(false, true)) {
            throw new AdminException(HttpResponseStatus.CONFLICT, "a reload is running; try again when it is done");
        }
        CompletableFuture<List<ReloadOutcome>> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                done.complete(reload.get());
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
            } finally {
                running.set(false);
            }
        }, "ternmq-reload");
        t.setDaemon(true);
        t.start();
        return done.handleAsync((outcomes, error) -> {
            if (error != null) {
                Throwable cause = error.getCause() != null ? error.getCause() : error;
                return AdminResponses.error(HttpResponseStatus.INTERNAL_SERVER_ERROR,
                        "reload failed: " + cause.getMessage());
            }
            boolean allLoaded = outcomes.stream().allMatch(ReloadOutcome::reloaded);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("reloaded", allLoaded);
            m.put("files", outcomes.stream().map(o -> {
                Map<String, Object> j = new LinkedHashMap<>();
                j.put("what", o.what());
                j.put("file", o.file());
                j.put("reloaded", o.reloaded());
                if (!o.reloaded()) {
                    j.put("error", o.error());
                }
                return j;
            }).toList());
            return AdminResponses.json(allLoaded ? HttpResponseStatus.OK : HttpResponseStatus.UNPROCESSABLE_ENTITY,
                    m);
        }, loop);
    }
}
