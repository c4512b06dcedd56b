package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.ternmq.broker.metrics.MetricsHistory;
import io.ternmq.broker.metrics.MetricsHistory.Series;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code GET /api/v1/metrics/history?window=15m}: the last {@code window} (1 s to 15 m, as {@code 90s} or
 * {@code 5m}; default 15 m) of the 1 s samples {@link MetricsHistory} keeps, one array per series, oldest first,
 * for the dashboard's plots. Runs on the admin loop, the history's only thread.
 */
final class MetricsHistoryRoute implements AdminRoute {
    private static final Pattern WINDOW = Pattern.compile("(\\d{1,6})([sm])");

    private final MetricsHistory history;

    MetricsHistoryRoute(MetricsHistory history) {
        this.history = history;
    }

    @Override
    public String path() {
        return "/api/v1/metrics/history";
    }

    @Override
    public Access access() {
        return Access.USER;
    }

    /** The window in seconds; 400 unless 1 s to 15 m. */
    static int windowSeconds(String value) {
        if (value == null) {
            return MetricsHistory.CAPACITY;
        }
        Matcher w = WINDOW.matcher(value);
        int seconds = w.matches() ? Integer.parseInt(w.group(1)) * (w.group(2).equals("m") ? 60 : 1) : -1;
        if (seconds < 1 || seconds > MetricsHistory.CAPACITY) {
            throw AdminException.badRequest("window must be from 1s to 15m (such as 90s or 5m), not '" + value
                    + "'");
        }
        return seconds;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        int window = windowSeconds(request.param("window"));
        int size = history.size();
        int from = Math.max(0, size - window);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("intervalSeconds", 1);
        m.put("windowSeconds", window);
        m.put("heapMaxBytes", Runtime.getRuntime().maxMemory());
        List<Long> time = new ArrayList<>(size - from);
        for (int i = from; i < size; i++) {
            time.add(history.timeMillis(i));
        }
        m.put("time", time);
        Map<String, Object> drops = new LinkedHashMap<>();
        for (Series s : Series.values()) {
            List<Object> values = new ArrayList<>(size - from);
            for (int i = from; i < size; i++) {
                long v = history.value(s, i);
                if (s == Series.SYNC_P99_MICROS) {
                    values.add(v < 0 ? null : v / 1000.0); // milliseconds; null: no sync in that second
                } else {
                    values.add(v);
                }
            }
            if (s.isDrop()) {
                drops.put(s.json, values);
            } else if (s == Series.SYNC_P99_MICROS) {
                m.put("syncP99Ms", values);
            } else {
                m.put(s.json, values);
            }
            if (s == Series.DROPPED_CLUSTER_LINK) {
                m.put("drops", drops);
            }
        }
        return CompletableFuture.completedFuture(AdminResponses.json(HttpResponseStatus.OK, m));
    }
}
