package io.ternmq.broker.session;

import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;

/** What a session needs from the broker around it; the session registry provides it. */
public interface SessionHost {

    /** The session ended (expired, or its connection closed and it does not persist): forget it. Owner loop. */
    void endSession(Session session);

    /** Routes a will message whose time has come. */
    void publishWill(Message will);

    /** A shared-subscription delivery reached this session after it ended: route it to another member. */
    void redirectShared(Delivery delivery);
}
