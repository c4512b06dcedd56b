package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code GET /api/v1/alarms?node=}: the {@link Alarms} that hold now on every node of the cluster (on {@code node}
 * only, if given), in node id order, each with its node, since, value and threshold; {@code unanswered} names the
 * nodes that did not answer in time.
 */
final class AlarmsRoute implements AdminRoute {
    private final ClusterListings listings;

    AlarmsRoute(ClusterListings listings) {
        this.listings = listings;
    }

    @Override
    public String path() {
        return "/api/v1/alarms";
    }

    @Override
    public Access access() {
        return Access.USER;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        NodeOperations here = listings.operations();
        return listings.<List<Alarms.Alarm>>listed(request.param("node"), "alarms", null,
                () -> CompletableFuture.completedFuture(here.alarms())).thenApply(answers -> {
                    NodeRows<Alarms.Alarm> rows = NodeRows.of(answers);
                    return AdminResponses.json(HttpResponseStatus.OK, rows.json("alarms", rows.all(), a -> {
                        Map<String, Object> j = new LinkedHashMap<>();
                        j.put("name", a.name());
                        if (a.subject() != null) {
                            j.put("subject", a.subject());
                        }
                        j.put("message", a.message());
                        j.put("since", a.since().toString());
                        j.put("value", a.value());
                        j.put("threshold", a.threshold());
                        j.put("unit", a.unit());
                        return j;
                    }));
                });
    }
}
