package io.ternmq.broker.extension;

import io.netty.util.concurrent.EventExecutor;
import io.ternmq.codec.QoS;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import io.ternmq.extension.api.ClientInfo;
import io.ternmq.extension.api.SubscribeInboundOutput;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The filters of one SUBSCRIBE as the {@code SubscribeInbound} interceptors see and change them: per filter a change
 * or a refusal; the whole SUBSCRIBE refused (every filter with one code) when an interceptor fails or its async
 * decision's fallback refuses.
 */
public final class SubscribeDecision extends Decision<SubscribeDecision> implements SubscribeInboundOutput {
    private final ClientInfo client;
    private final Subscribe original;
    private final List<TopicSubscription> filters;
    /** Per filter: the refusal's reason code, or -1. */
    private final int[] refusals;
    private boolean changed;

    public SubscribeDecision(ClientInfo client, Subscribe subscribe, EventExecutor loop) {
        this(client, subscribe, new ArrayList<>(subscribe.subscriptions()), null, false, loop);
    }

    private SubscribeDecision(ClientInfo client, Subscribe original, List<TopicSubscription> filters, int[] refusals,
                              boolean changed, EventExecutor loop) {
        super(loop);
        this.client = client;
        this.original = original;
        this.filters = filters;
        if (refusals == null) {
            refusals = new int[filters.size()];
            Arrays.fill(refusals, -1);
        }
        this.refusals = refusals;
        this.changed = changed;
    }

    @Override
    protected SubscribeDecision copy() {
        return new SubscribeDecision(client, original, new ArrayList<>(filters), refusals.clone(), changed, loop);
    }

    ClientInfo client() {
        return client;
    }

    /** The SUBSCRIBE the broker goes on with. */
    public Subscribe subscribe() {
        return changed ? new Subscribe(original.packetId(), List.copyOf(filters), original.properties()) : original;
    }

    /** The reason code refusing filter {@code i}, or -1. */
    public int refusal(int i) {
        return refused() ? refusalCode() : refusals[i];
    }

    @Override
    public int size() {
        return filters.size();
    }

    @Override
    public String filter(int index) {
        return filters.get(index).filter();
    }

    @Override
    public void filter(int index, String filter) {
        Objects.requireNonNull(filter, "filter");
        TopicSubscription t = filters.get(index);
        filters.set(index, new TopicSubscription(filter, t.qos(), t.noLocal(), t.retainAsPublished(),
                t.retainHandling()));
        changed = true;
    }

    @Override
    public int qos(int index) {
        return filters.get(index).qos().value();
    }

    @Override
    public void qos(int index, int qos) {
        TopicSubscription t = filters.get(index);
        filters.set(index, new TopicSubscription(t.filter(), QoS.of(qos), t.noLocal(), t.retainAsPublished(),
                t.retainHandling()));
        changed = true;
    }

    @Override
    public void refuse(int index, int reasonCode) {
        if (reasonCode < 0x80 || reasonCode > 0xFF) {
            throw new IllegalArgumentException("a refusal's reason code is 0x80..0xFF, not 0x"
                    + Integer.toHexString(reasonCode));
        }
        Objects.checkIndex(index, refusals.length);
        refusals[index] = reasonCode;
    }
}
