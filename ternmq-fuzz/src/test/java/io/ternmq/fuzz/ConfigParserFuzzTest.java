package io.ternmq.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.config.ConfigException;
import io.ternmq.broker.config.ConfigFileParser;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Fuzz target for the configuration parser: any text either parses into a configuration or fails with a
 * {@link ConfigException} (which names file, line and key); nothing else may escape.
 */
class ConfigParserFuzzTest {

    @FuzzTest(maxDuration = "5m")
    void parse(byte[] input) {
        // as Files.readAllLines would hand it over (it refuses malformed UTF-8 before the parser sees it)
        List<String> lines = new String(input, StandardCharsets.UTF_8).lines().toList();
        BrokerConfig config;
        try {
            config = ConfigFileParser.parse("fuzz.conf", lines).build();
        } catch (ConfigException expected) {
            if (expected.getMessage() == null || !expected.getMessage().startsWith("fuzz.conf")) {
                throw new AssertionError("a configuration error that does not name the file: "
                        + expected.getMessage());
            }
            return;
        }
        config.transport().listeners().forEach(l -> config.allowAnonymous(l));
    }
}
