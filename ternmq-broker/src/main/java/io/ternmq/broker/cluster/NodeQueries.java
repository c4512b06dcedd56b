package io.ternmq.broker.cluster;

import java.io.Serializable;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * Questions one node asks the others (and itself) about what they hold, for the admin API's listings across the
 * cluster: each node {@link #serve serves} named questions; {@link #ask} and {@link #askAll} carry a question to a
 * member through Hazelcast's executor service (no protocol or port of TernMQ's own) and come back asynchronously,
 * each answer within a timeout or with the reason it has none. No Hazelcast type shows here: the admin code that uses
 * it loads no Hazelcast class on a single node, where there is none of this.
 */
public interface NodeQueries {

    /**
     * One node's answer: {@code value}, or {@code error} saying why there is none (it did not answer in time, it is
     * no member, it failed).
     */
    record Answer<T>(String nodeId, T value, String error) {
        public boolean answered() {
            return error == null;
        }
    }

    /**
     * How this node sees another one.
     *
     * @param member         the membership lists it now
     * @param linkUp         this node's data link to it is established
     * @param routesReceived it has connected its link to this node and sent its routes (this node routes to it)
     * @param routes         filters it announced (each one a subscription in this node's table)
     */
    record PeerState(boolean member, boolean linkUp, boolean routesReceived, int routes) implements Serializable {
    }

    /** This node's id. */
    String nodeId();

    /** The node ids of the members now, this node's included, in id order. */
    List<String> members();

    /** How this node sees another member; null for this node or one it does not know. */
    PeerState peer(String nodeId);

    /**
     * Answers {@code question} from now on, for every node (this one included): {@code handler} gets the argument the
     * asker sent and completes, on any thread, with a value Java serialization can carry.
     */
    void serve(String question, Function<Serializable, CompletionStage<? extends Serializable>> handler);

    /** Asks one node; the stage completes (on some other thread) within {@code timeoutMillis} either way. */
    <T> CompletionStage<Answer<T>> ask(String nodeId, String question, Serializable argument, long timeoutMillis);

    /** Asks every member (this node too); the answers in node id order, within {@code timeoutMillis}. */
    <T> CompletionStage<List<Answer<T>>> askAll(String question, Serializable argument, long timeoutMillis);

    /** The node the cluster's session directory says holds the client's session; null if none. */
    CompletionStage<String> holder(String clientId);
}
