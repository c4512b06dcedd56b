package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** {@code GET /api/v1/alarms}: the {@link Alarms} that hold now, each with since, value and threshold. */
final class AlarmsRoute implements AdminRoute {
    private final Alarms alarms;

    AlarmsRoute(Alarms alarms) {
        this.alarms = alarms;
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
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("alarms", alarms.check().stream().map(a -> {
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
        }).toList());
        return CompletableFuture.completedFuture(AdminResponses.json(HttpResponseStatus.OK, m));
    }
}
