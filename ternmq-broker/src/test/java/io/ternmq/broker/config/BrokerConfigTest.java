package io.ternmq.broker.config;

import io.ternmq.broker.routing.SharedGroup;
import io.ternmq.broker.store.RocksStore;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.function.BiConsumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The builder's setters: keywords as in the file, and the section each setting lands in. */
class BrokerConfigTest {

    @Test
    @DisplayName("a keyword setter takes the file's spelling, case ignored, and gives the enum constant")
    void keywordSetters() {
        BrokerConfig c = BrokerConfig.builder().storageType("MEMORY").storageDurability("periodic")
                .sharedSubscriptionStrategy("hash_client_id").queueOverflowPolicy("Drop_Oldest")
                .queueOverflowV3Action("disconnect").slowConsumerPolicy("disconnect").logLevel("trace").build();
        assertThat(c.storage().type()).isEqualTo(StorageSettings.Type.MEMORY);
        assertThat(c.storage().durability()).isEqualTo(Durability.PERIODIC);
        assertThat(c.queues().sharedSubscriptionStrategy()).isEqualTo(SharedSubscriptionStrategy.HASH_CLIENT_ID);
        assertThat(c.queues().overflowPolicy()).isEqualTo(QueueSettings.OverflowPolicy.DROP_OLDEST);
        assertThat(c.queues().overflowV3Action()).isEqualTo(QueueSettings.V3OverflowAction.DISCONNECT);
        assertThat(c.transport().slowConsumerPolicy()).isEqualTo(TransportSettings.SlowConsumerPolicy.DISCONNECT);
        assertThat(c.logLevel()).isEqualTo(LogLevel.TRACE);
    }

    @Test
    @DisplayName("a keyword setter and its enum overload build the same configuration")
    void enumOverloads() {
        BrokerConfig byKeyword = BrokerConfig.builder().storageType("memory").storageDurability("none")
                .sharedSubscriptionStrategy("sticky").queueOverflowPolicy("drop_oldest")
                .queueOverflowV3Action("disconnect").slowConsumerPolicy("disconnect").logLevel("warn").build();
        BrokerConfig byEnum = BrokerConfig.builder().storageType(StorageSettings.Type.MEMORY)
                .storageDurability(Durability.NONE).sharedSubscriptionStrategy(SharedSubscriptionStrategy.STICKY)
                .queueOverflowPolicy(QueueSettings.OverflowPolicy.DROP_OLDEST)
                .queueOverflowV3Action(QueueSettings.V3OverflowAction.DISCONNECT)
                .slowConsumerPolicy(TransportSettings.SlowConsumerPolicy.DISCONNECT).logLevel(LogLevel.WARN).build();
        assertThat(byKeyword).isEqualTo(byEnum);
    }

    // key, a value it does not know
    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "storage.type, disk",
            "storage.durability, always",
            "shared_subscription_strategy, first",
            "queue_overflow_policy, drop_newest",
            "queue_overflow_v3_action, nack",
            "slow_consumer_policy, drop",
            "log_level, verbose"})
    @DisplayName("a keyword setter refuses an unknown value with the file parser's message")
    void unknownKeyword(String key, String bad) {
        BiConsumer<BrokerConfig.Builder, String> setter = switch (key) {
            case "storage.type" -> BrokerConfig.Builder::storageType;
            case "storage.durability" -> BrokerConfig.Builder::storageDurability;
            case "shared_subscription_strategy" -> BrokerConfig.Builder::sharedSubscriptionStrategy;
            case "queue_overflow_policy" -> BrokerConfig.Builder::queueOverflowPolicy;
            case "queue_overflow_v3_action" -> BrokerConfig.Builder::queueOverflowV3Action;
            case "slow_consumer_policy" -> BrokerConfig.Builder::slowConsumerPolicy;
            case "log_level" -> BrokerConfig.Builder::logLevel;
            default -> throw new IllegalArgumentException(key);
        };
        String fileMessage;
        try {
            ConfigFileParser.parse("t.conf", List.of(key + " " + bad));
            throw new AssertionError("the parser accepted " + bad);
        } catch (ConfigException e) {
            fileMessage = e.getMessage();
        }
        assertThat(fileMessage).startsWith("t.conf:1: " + key + ": '" + bad + "' is not one of ");
        assertThatThrownBy(() -> setter.accept(BrokerConfig.builder(), bad))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(fileMessage.substring(("t.conf:1: " + key + ": ").length()));
    }

    @Test
    @DisplayName("each flat setter lands in its section")
    void sections() {
        BrokerConfig c = BrokerConfig.builder().maxTopicLength(16).maxQueuedMessages(7).retainedMaxCount(3)
                .storageSyncIntervalMillis(42).ioThreads(5).authFailureDelayMillis(9).autoIdPrefix("x-")
                .persistentClientExpiration(3600).build();
        assertThat(c.mqtt().maxTopicLength()).isEqualTo(16);
        assertThat(c.queues().maxQueuedMessages()).isEqualTo(7);
        assertThat(c.retained().maxCount()).isEqualTo(3);
        assertThat(c.storage().syncIntervalMillis()).isEqualTo(42);
        assertThat(c.transport().ioThreads()).isEqualTo(5);
        assertThat(c.security().authFailureDelayMillis()).isEqualTo(9);
        assertThat(c.sessions().autoIdPrefix()).isEqualTo("x-");
        assertThat(c.sessions().persistentClientExpiration()).isEqualTo(3600L);
    }
}
