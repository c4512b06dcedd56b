package io.ternmq.broker.extension;

import io.netty.util.concurrent.EventExecutor;
import io.ternmq.codec.Connect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.extension.api.ConnectInboundInput;
import io.ternmq.extension.api.ConnectInboundOutput;
import io.ternmq.extension.api.ReasonCodes;
import io.ternmq.extension.api.UserProperty;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;

/** A CONNECT as the {@code ConnectInbound} interceptors see and change it. */
public final class ConnectDecision extends Decision<ConnectDecision> implements ConnectInboundInput,
        ConnectInboundOutput {
    private final Connect original;
    private final String remoteAddress;
    private final String listenerName;
    private String clientId;
    private String username;
    private byte[] password;
    private MqttProperties properties;
    private String serverReference;

    public ConnectDecision(Connect connect, String remoteAddress, String listenerName, EventExecutor loop) {
        super(loop);
        this.original = connect;
        this.remoteAddress = remoteAddress;
        this.listenerName = listenerName;
        this.clientId = connect.clientId();
        this.username = connect.username();
        this.password = connect.password();
        this.properties = connect.properties();
    }

    private ConnectDecision(ConnectDecision d) {
        this(d.original, d.remoteAddress, d.listenerName, d.loop);
        clientId = d.clientId;
        username = d.username;
        password = d.password;
        properties = d.properties;
    }

    @Override
    protected ConnectDecision copy() {
        return new ConnectDecision(this);
    }

    /** The CONNECT the broker goes on with. */
    public Connect connect() {
        if (clientId.equals(original.clientId()) && Objects.equals(username, original.username())
                && password == original.password() && properties == original.properties()) {
            return original;
        }
        return new Connect(original.version(), clientId, original.cleanStart(), original.keepAliveSeconds(),
                username, password, original.will(), properties);
    }

    /** The Server Reference of a redirect, or null. */
    public String serverReference() {
        return serverReference;
    }

    // ------------------------------------------------------------------ input

    @Override
    public int protocolLevel() {
        return original.version().level();
    }

    @Override
    public boolean cleanStart() {
        return original.cleanStart();
    }

    @Override
    public int keepAliveSeconds() {
        return original.keepAliveSeconds();
    }

    @Override
    public String remoteAddress() {
        return remoteAddress;
    }

    @Override
    public String listenerName() {
        return listenerName;
    }

    // ------------------------------------------------------------------ output

    @Override
    public String clientId() {
        return clientId;
    }

    @Override
    public void clientId(String clientId) {
        this.clientId = Objects.requireNonNull(clientId, "clientId");
    }

    @Override
    public String username() {
        return username;
    }

    @Override
    public void username(String username) {
        this.username = username;
    }

    @Override
    public ByteBuffer password() {
        return password == null ? null : ByteBuffer.wrap(password).asReadOnlyBuffer();
    }

    @Override
    public void password(ByteBuffer password) {
        if (password == null) {
            this.password = null;
            return;
        }
        byte[] copy = new byte[password.remaining()];
        password.duplicate().get(copy);
        this.password = copy;
    }

    @Override
    public List<UserProperty> userProperties() {
        return Properties5.userProperties(properties);
    }

    @Override
    public void userProperties(List<UserProperty> userProperties) {
        properties = properties.toBuilder().clearUserProperties()
                .userProperties(Properties5.toCodec(userProperties)).build();
    }

    @Override
    public void refuse(int reasonCode, String reasonString) {
        refuseWith(reasonCode, reasonString);
    }

    @Override
    public void redirect(int reasonCode, String serverReference) {
        if (reasonCode != ReasonCodes.USE_ANOTHER_SERVER && reasonCode != ReasonCodes.SERVER_MOVED) {
            throw new IllegalArgumentException("a redirect is 0x9C or 0x9D, not 0x" + Integer.toHexString(reasonCode));
        }
        this.serverReference = Objects.requireNonNull(serverReference, "serverReference");
        refuseWith(reasonCode, null);
    }
}
