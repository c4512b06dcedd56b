package io.ternmq.broker;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keeps docs/conformance.md honest. Every row of its statement tables names, for one version, one normative
 * statement ([MQTT-x.y.z-n], or §section[/0xNN] for a rule the 5.0 text states without a number) and either the
 * tests that check it, as {@code `Class#method`}, or the reason it is not tested. For each test named, the test
 * class must exist in one of the two modules' test sources, the method must be a test there, and its
 * {@code @DisplayName} must name the statement (for a § row: the section, and the reason code if the row gives one).
 * A row with neither a test nor a reason fails, and so does a statement listed twice for the same version.
 */
class ConformanceMatrixTest {
    private static final Path DOC = Path.of("..", "docs", "conformance.md");
    private static final List<Path> TEST_ROOTS = List.of(Path.of("..", "ternmq-broker", "src", "test", "java"),
            Path.of("..", "ternmq-codec", "src", "test", "java"));
    private static final Set<String> VERSIONS = Set.of("3.1.1", "5.0");

    private static final Pattern NUMBERED = Pattern.compile("\\[(MQTT-[0-9][0-9.\\-]*[0-9])]");
    private static final Pattern UNNUMBERED = Pattern.compile("§([0-9]+(?:\\.[0-9]+)*)(?:/(0x[0-9A-Fa-f]{2}))?");
    private static final Pattern TEST_REF = Pattern.compile("`([A-Za-z_][A-Za-z0-9_]*)#([A-Za-z_][A-Za-z0-9_]*)`");
    private static final Pattern DISPLAY_NAME = Pattern.compile(
            "@DisplayName\\(\\s*((?:\"(?:[^\"\\\\]|\\\\.)*\"\\s*\\+?\\s*)+)\\)");
    private static final Pattern STRING_LITERAL = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Pattern METHOD = Pattern.compile("\\bvoid\\s+([A-Za-z_][A-Za-z0-9_]*)\\s*\\(");

    /** One statement row: version, statement (as written), summary, and the test-or-reason cell. */
    record Row(int line, String version, String statement, String summary, String check) {
        String where() {
            return "docs/conformance.md:" + line + " " + version + " " + statement;
        }
    }

    /** A test method found in the sources: its display name and whether it carries a test annotation. */
    record TestMethod(String displayName, boolean isTest) {
    }

    private static List<Row> rows;
    private static final Map<String, Map<String, TestMethod>> CLASSES = new HashMap<>();

    @BeforeAll
    static void read() throws IOException {
        rows = parse(Files.readAllLines(DOC));
    }

    static List<Row> parse(List<String> lines) {
        List<Row> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (!line.startsWith("|")) {
                continue;
            }
            List<String> cells = cells(line);
            if (cells.size() < 4 || !VERSIONS.contains(cells.get(0))) {
                continue;
            }
            out.add(new Row(i + 1, cells.get(0), cells.get(1).replace("`", "").trim(), cells.get(2), cells.get(3)));
        }
        return out;
    }

    /** Splits a Markdown table row on unescaped pipes. */
    private static List<String> cells(String line) {
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        for (int i = 1; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (ch == '\\' && i + 1 < line.length() && line.charAt(i + 1) == '|') {
                cell.append('|');
                i++;
            } else if (ch == '|') {
                cells.add(cell.toString().trim());
                cell.setLength(0);
            } else {
                cell.append(ch);
            }
        }
        return cells;
    }

    @Test
    @DisplayName("the matrix lists the statements of both versions, each in a recognised form")
    void statementsRecognised() {
        assertThat(rows.stream().filter(r -> r.version().equals("3.1.1")).count()).isGreaterThanOrEqualTo(130);
        assertThat(rows.stream().filter(r -> r.version().equals("5.0")).count()).isGreaterThanOrEqualTo(240);
        for (Row r : rows) {
            boolean numbered = NUMBERED.matcher(r.statement()).matches();
            boolean unnumbered = UNNUMBERED.matcher(r.statement()).matches();
            assertThat(numbered || unnumbered).as(r.where() + ": not [MQTT-x.y.z-n] nor §section[/0xNN]").isTrue();
            assertThat(r.summary()).as(r.where() + ": summary").isNotBlank();
        }
    }

    @Test
    @DisplayName("no statement is listed twice for the same version")
    void noDuplicates() {
        Map<String, Row> seen = new HashMap<>();
        for (Row r : rows) {
            Row before = seen.put(r.version() + " " + r.statement(), r);
            assertThat(before).as(r.where() + " is listed twice (also line " + (before == null ? 0 : before.line())
                    + ")").isNull();
        }
    }

    @Test
    @DisplayName("every row names a test or gives a reason")
    void testOrReason() {
        for (Row r : rows) {
            String check = r.check().trim();
            boolean hasTest = TEST_REF.matcher(check).find();
            boolean hasReason = check.replaceAll("[`*_\\-–—.]", "").trim().length() >= 3;
            assertThat(hasTest || hasReason).as(r.where() + ": neither a test nor a reason").isTrue();
        }
    }

    @Test
    @DisplayName("every test named exists, is a test, and says in its @DisplayName that it checks the row's statement")
    void namedTestsCheckTheirStatement() {
        List<String> problems = new ArrayList<>();
        int refs = 0;
        for (Row r : rows) {
            Matcher m = TEST_REF.matcher(r.check());
            while (m.find()) {
                refs++;
                String cls = m.group(1);
                String method = m.group(2);
                Map<String, TestMethod> methods = methodsOf(cls);
                if (methods == null) {
                    problems.add(r.where() + ": no test class " + cls + ".java in either module");
                    continue;
                }
                TestMethod t = methods.get(method);
                if (t == null) {
                    problems.add(r.where() + ": " + cls + " has no method " + method + " with a @DisplayName");
                    continue;
                }
                if (!t.isTest()) {
                    problems.add(r.where() + ": " + cls + "#" + method + " is not annotated as a test");
                }
                if (!names(t.displayName(), r.statement())) {
                    problems.add(r.where() + ": " + cls + "#" + method + " does not name it in its @DisplayName \""
                            + t.displayName() + "\"");
                }
            }
        }
        assertThat(refs).as("tests named in the matrix").isGreaterThan(100);
        assertThat(problems).isEmpty();
    }

    /** Whether a display name names the statement: the bare id, not as a prefix of a longer one. */
    static boolean names(String displayName, String statement) {
        Matcher numbered = NUMBERED.matcher(statement);
        if (numbered.matches()) {
            return contains(displayName, numbered.group(1));
        }
        Matcher unnumbered = UNNUMBERED.matcher(statement);
        if (!unnumbered.matches()) {
            return false;
        }
        boolean section = contains(displayName, unnumbered.group(1));
        String code = unnumbered.group(2);
        return section && (code == null
                || displayName.toLowerCase(Locale.ROOT).contains(code.toLowerCase(Locale.ROOT)));
    }

    private static boolean contains(String text, String token) {
        return Pattern.compile("(?<![0-9A-Za-z.\\-])" + Pattern.quote(token) + "(?![0-9]|\\.[0-9])")
                .matcher(text).find();
    }

    @Test
    @DisplayName("the check of display names tells one statement from a longer one and a § section from another")
    void matching() {
        assertThat(names("[MQTT-3.1.2-24] keep alive", "[MQTT-3.1.2-24]")).isTrue();
        assertThat(names("[MQTT-3.1.2-24] keep alive", "[MQTT-3.1.2-2]")).isFalse();
        assertThat(names("[MQTT-3.1.2-2][MQTT-3.1.2-24]", "[MQTT-3.1.2-2]")).isTrue();
        assertThat(names("accepts long ids [MQTT-3.1.3-5 allows it]", "[MQTT-3.1.3-5]")).isTrue();
        assertThat(names("§3.3.4 too many: DISCONNECT 0x93", "§3.3.4/0x93")).isTrue();
        assertThat(names("§3.3.4.1 too many: DISCONNECT 0x93", "§3.3.4/0x93")).isFalse();
        assertThat(names("(3.14.2.2.2) then DISCONNECT 0x82", "§3.14.2.2.2/0x82")).isTrue();
        assertThat(names("§3.3.4 too many: DISCONNECT 0x82", "§3.3.4/0x93")).isFalse();
    }

    /** The methods with a @DisplayName of the test class with this simple name, or null if there is none. */
    private static Map<String, TestMethod> methodsOf(String simpleName) {
        return CLASSES.computeIfAbsent(simpleName, n -> {
            List<Path> files = new ArrayList<>();
            for (Path root : TEST_ROOTS) {
                try (Stream<Path> s = Files.walk(root)) {
                    s.filter(p -> p.getFileName().toString().equals(n + ".java")).forEach(files::add);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            if (files.isEmpty()) {
                return null;
            }
            assertThat(files).as("test class " + n + " must be unique across the modules").hasSize(1);
            try {
                return displayNames(Files.readString(files.get(0)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** Method name to display name, for each @DisplayName followed by a method declaration. */
    static Map<String, TestMethod> displayNames(String source) {
        Map<String, TestMethod> out = new HashMap<>();
        Matcher dn = DISPLAY_NAME.matcher(source);
        while (dn.find()) {
            Matcher method = METHOD.matcher(source);
            if (!method.find(dn.end())) {
                break;
            }
            String between = source.substring(dn.end(), method.start());
            if (between.contains("@DisplayName") || between.contains("class ")) {
                continue; // a class-level display name
            }
            StringBuilder name = new StringBuilder();
            Matcher lit = STRING_LITERAL.matcher(dn.group(1));
            while (lit.find()) {
                name.append(lit.group(1).replace("\\\"", "\"").replace("\\\\", "\\"));
            }
            String around = annotationsBefore(source, dn.start()) + between;
            boolean isTest = around.contains("@Test") || around.contains("@ParameterizedTest")
                    || around.contains("@RepeatedTest") || around.contains("@TestFactory");
            out.put(method.group(1), new TestMethod(name.toString(), isTest));
        }
        return out;
    }

    /**
     * The lines just above a position, back to the end of the previous member: a line ending in '}', ';' or '{' that
     * is not itself an annotation or a string literal (such as {@code @CsvSource({}).
     */
    private static String annotationsBefore(String source, int pos) {
        int end = source.lastIndexOf('\n', pos);
        StringBuilder block = new StringBuilder();
        while (end > 0) {
            int start = source.lastIndexOf('\n', end - 1) + 1;
            String line = source.substring(start, end).trim();
            boolean annotationOrLiteral = line.startsWith("@") || line.startsWith("\"");
            if (!annotationOrLiteral && (line.endsWith("}") || line.endsWith(";") || line.endsWith("{"))) {
                break;
            }
            block.insert(0, line + "\n");
            end = start - 1;
        }
        return block.toString();
    }

    @Test
    @DisplayName("statements the matrix lists with a test outnumber none: a summary of the coverage")
    void coverageSummary() {
        Set<String> untested = new TreeSet<>();
        for (Row r : rows) {
            if (!TEST_REF.matcher(r.check()).find()) {
                untested.add(r.version() + " " + r.statement());
            }
        }
        assertThat(untested.size()).isLessThan(rows.size());
    }
}
