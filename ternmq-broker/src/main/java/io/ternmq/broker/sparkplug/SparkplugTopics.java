package io.ternmq.broker.sparkplug;

/**
 * The Sparkplug B 3.0 topics a Sparkplug Aware MQTT Server treats specially (docs/sparkplug.md):
 * {@code spBv1.0/<group>/NBIRTH/<edge node>}, {@code spBv1.0/<group>/DBIRTH/<edge node>/<device>},
 * {@code spBv1.0/<group>/NDEATH/<edge node>}, and the broker's own {@code $sparkplug/certificates/} tree.
 */
public final class SparkplugTopics {
    public static final String NAMESPACE = "spBv1.0/";
    /** Where birth certificates are kept, retained: this prefix, then the BIRTH's own topic. */
    public static final String CERTIFICATES = "$sparkplug/certificates/";
    /** The broker's tree, which clients may not publish to. */
    public static final String RESERVED = "$sparkplug";

    private SparkplugTopics() {
    }

    /** Whether clients may not publish to this topic: it is in the broker's {@code $sparkplug} tree. */
    public static boolean isReserved(String topic) {
        return topic.startsWith(RESERVED) && (topic.length() == RESERVED.length()
                || topic.charAt(RESERVED.length()) == '/');
    }

    /** Whether the topic is an NBIRTH: {@code spBv1.0/<group>/NBIRTH/<edge node>}. */
    public static boolean isNbirth(String topic) {
        return isMessage(topic, "NBIRTH", 4);
    }

    /** Whether the topic is a DBIRTH: {@code spBv1.0/<group>/DBIRTH/<edge node>/<device>}. */
    public static boolean isDbirth(String topic) {
        return isMessage(topic, "DBIRTH", 5);
    }

    /** Whether the topic is an NDEATH: {@code spBv1.0/<group>/NDEATH/<edge node>}. */
    public static boolean isNdeath(String topic) {
        return isMessage(topic, "NDEATH", 4);
    }

    /** The certificate topic of a BIRTH. */
    public static String certificate(String birthTopic) {
        return CERTIFICATES + birthTopic;
    }

    /** The filter of an edge node's DBIRTH certificates, given its NBIRTH topic. */
    public static String deviceCertificates(String nbirthTopic) {
        String[] l = nbirthTopic.split("/", -1);
        return CERTIFICATES + NAMESPACE + l[1] + "/DBIRTH/" + l[3] + "/+";
    }

    /** {@code spBv1.0/<group>/<type>/...} with {@code levels} non-empty levels. */
    private static boolean isMessage(String topic, String type, int levels) {
        if (!topic.startsWith(NAMESPACE)) {
            return false;
        }
        String[] l = topic.split("/", -1);
        if (l.length != levels || !l[2].equals(type)) {
            return false;
        }
        for (String level : l) {
            if (level.isEmpty()) {
                return false;
            }
        }
        return true;
    }
}
