package io.ternmq.broker.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.ExecutionCallback;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import com.hazelcast.core.IExecutorService;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * {@link NodeQueries} on Hazelcast: a question goes to its member as a {@link Question} through the executor service
 * {@value #EXECUTOR}; there it finds this class in the instance's user context and runs the handler, waiting on that
 * executor's thread (never an event loop) at most a little less than the asker does. This node's own questions run
 * the handler directly. One of the classes that touch Hazelcast (docs/ARCHITECTURE.md).
 */
final class MemberQueries implements NodeQueries {
    static final String EXECUTOR = "ternmq.node-queries";
    private static final String CONTEXT_KEY = "ternmq.node-queries";
    /** How much sooner than the asker a member gives up, so that its "too slow" arrives rather than a timeout. */
    private static final long ANSWER_MARGIN_MILLIS = 250;

    private final HazelcastInstance hazelcast;
    private final String nodeId;
    private final SessionDirectory directory;
    private final Function<String, PeerState> peers;
    private final IExecutorService executor;
    private final Map<String, Function<Serializable, CompletionStage<? extends Serializable>>> handlers =
            new ConcurrentHashMap<>();

    MemberQueries(HazelcastInstance hazelcast, String nodeId, SessionDirectory directory,
                  Function<String, PeerState> peers) {
        this.hazelcast = hazelcast;
        this.nodeId = nodeId;
        this.directory = directory;
        this.peers = peers;
        this.executor = hazelcast.getExecutorService(EXECUTOR);
        hazelcast.getUserContext().put(CONTEXT_KEY, this);
    }

    @Override
    public String nodeId() {
        return nodeId;
    }

    @Override
    public List<String> members() {
        List<String> ids = new ArrayList<>();
        for (Member m : hazelcast.getCluster().getMembers()) {
            String id = m.getAttribute(ClusterMembership.NODE_ID);
            if (id != null) {
                ids.add(id);
            }
        }
        ids.sort(Comparator.naturalOrder());
        return ids;
    }

    @Override
    public PeerState peer(String id) {
        return id.equals(nodeId) ? null : peers.apply(id);
    }

    @Override
    public void serve(String question, Function<Serializable, CompletionStage<? extends Serializable>> handler) {
        handlers.put(question, handler);
    }

    @Override
    public <T> CompletionStage<Answer<T>> ask(String id, String question, Serializable argument, long timeoutMillis) {
        CompletableFuture<Object> value = new CompletableFuture<>();
        if (id.equals(nodeId)) {
            answerHere(question, argument).whenComplete((v, e) -> {
                if (e != null) {
                    value.completeExceptionally(e);
                } else {
                    value.complete(v);
                }
            });
        } else {
            Member member = member(id);
            if (member == null) {
                return CompletableFuture.completedFuture(new Answer<>(id, null, "not a member of the cluster"));
            }
            long wait = Math.max(1, timeoutMillis - ANSWER_MARGIN_MILLIS);
            try {
                executor.submitToMember(new Question(question, argument, wait), member,
                        new ExecutionCallback<Serializable>() {
                            @Override
                            public void onResponse(Serializable response) {
                                value.complete(response);
                            }

                            @Override
                            public void onFailure(Throwable t) {
                                value.completeExceptionally(t);
                            }
                        });
            } catch (RuntimeException e) {
                value.completeExceptionally(e);
            }
        }
        return value.orTimeout(timeoutMillis, TimeUnit.MILLISECONDS).handle((v, e) -> {
            if (e == null) {
                @SuppressWarnings("unchecked")
                T t = (T) v;
                return new Answer<>(id, t, null);
            }
            return new Answer<>(id, null, reason(e, timeoutMillis));
        });
    }

    @Override
    public <T> CompletionStage<List<Answer<T>>> askAll(String question, Serializable argument, long timeoutMillis) {
        List<CompletableFuture<Answer<T>>> asked = new ArrayList<>();
        for (String id : members()) {
            asked.add(this.<T>ask(id, question, argument, timeoutMillis).toCompletableFuture());
        }
        return CompletableFuture.allOf(asked.toArray(new CompletableFuture<?>[0]))
                .thenApply(done -> asked.stream().map(CompletableFuture::join).toList());
    }

    @Override
    public CompletionStage<String> holder(String clientId) {
        return directory.holder(clientId);
    }

    private Member member(String id) {
        for (Member m : hazelcast.getCluster().getMembers()) {
            if (id.equals(m.getAttribute(ClusterMembership.NODE_ID))) {
                return m;
            }
        }
        return null;
    }

    private CompletionStage<? extends Serializable> answerHere(String question, Serializable argument) {
        Function<Serializable, CompletionStage<? extends Serializable>> h = handlers.get(question);
        if (h == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("node " + nodeId
                    + " does not answer '" + question + "' (yet)"));
        }
        try {
            return h.apply(argument);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static String reason(Throwable e, long timeoutMillis) {
        Throwable c = e;
        while ((c instanceof java.util.concurrent.CompletionException
                || c instanceof java.util.concurrent.ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        if (c instanceof TimeoutException) {
            return "no answer within " + timeoutMillis + " ms";
        }
        String m = c.getMessage();
        return m == null ? c.getClass().getSimpleName() : m;
    }

    /**
     * A question on its way to a member and run there, on Hazelcast's executor thread: it waits for the handler's
     * answer at most {@code waitMillis}.
     */
    static final class Question implements Callable<Serializable>, Serializable, HazelcastInstanceAware {
        private static final long serialVersionUID = 1L;
        private final String question;
        private final Serializable argument;
        private final long waitMillis;
        private transient HazelcastInstance instance;

        Question(String question, Serializable argument, long waitMillis) {
            this.question = question;
            this.argument = argument;
            this.waitMillis = waitMillis;
        }

        @Override
        public void setHazelcastInstance(HazelcastInstance hazelcastInstance) {
            this.instance = hazelcastInstance;
        }

        @Override
        public Serializable call() throws Exception {
            Object here = instance == null ? null : instance.getUserContext().get(CONTEXT_KEY);
            if (!(here instanceof MemberQueries queries)) {
                throw new IllegalStateException("this member answers no questions (starting?)");
            }
            try {
                return queries.answerHere(question, argument).toCompletableFuture()
                        .get(waitMillis, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                throw new IllegalStateException("node " + queries.nodeId + " had no answer within " + waitMillis
                        + " ms");
            } catch (java.util.concurrent.ExecutionException e) {
                Throwable c = e.getCause() == null ? e : e.getCause();
                throw new IllegalStateException(c.getMessage() == null ? c.getClass().getSimpleName()
                        : c.getMessage());
            }
        }
    }
}
