package io.ternmq.broker.extension;

import io.ternmq.codec.MqttProperties;
import io.ternmq.extension.api.UserProperty;

import java.util.ArrayList;
import java.util.List;

/** User Properties between the codec's form and the API's (an extension never sees a codec type). */
final class Properties5 {
    private Properties5() {
    }

    static List<UserProperty> userProperties(MqttProperties props) {
        List<io.ternmq.codec.UserProperty> in = props.userProperties();
        if (in.isEmpty()) {
            return List.of();
        }
        List<UserProperty> out = new ArrayList<>(in.size());
        for (io.ternmq.codec.UserProperty u : in) {
            out.add(new UserProperty(u.name(), u.value()));
        }
        return List.copyOf(out);
    }

    static List<io.ternmq.codec.UserProperty> toCodec(List<UserProperty> in) {
        List<io.ternmq.codec.UserProperty> out = new ArrayList<>(in.size());
        for (UserProperty u : in) {
            out.add(new io.ternmq.codec.UserProperty(u.name(), u.value()));
        }
        return out;
    }
}
