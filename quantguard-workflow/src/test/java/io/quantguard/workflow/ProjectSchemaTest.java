package io.quantguard.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The JSON schema of {@code quantguard.yaml} (checked in beside {@link Project}) accepts the
 * built-in project and every example's project file, and refuses what the binding refuses.
 */
class ProjectSchemaTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private static JsonSchema schema() throws Exception {
    try (InputStream in = Project.class.getResourceAsStream("quantguard.schema.json")) {
      return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in);
    }
  }

  private static Set<ValidationMessage> validate(String yaml) throws Exception {
    JsonNode node = YAML.readTree(yaml);
    return schema().validate(node);
  }

  /** The project files of the repository's examples ({@code examples/}), where there are any. */
  private static List<Path> examples() throws Exception {
    Path dir = Path.of("..", "examples");
    List<Path> out = new ArrayList<>();
    if (Files.isDirectory(dir)) {
      try (Stream<Path> s = Files.walk(dir)) {
        s.filter(p -> p.getFileName().toString().equals("quantguard.yaml")).forEach(out::add);
      }
    }
    return out;
  }

  @Test
  void theBuiltInProjectAndTheExamplesAreValid() throws Exception {
    String builtIn = DefaultProject.text();
    assertThat(validate(builtIn)).isEmpty();
    Project.parse(builtIn, Path.of("."), "built-in"); // and the binding agrees
    for (Path example : examples()) {
      assertThat(validate(Files.readString(example))).as(example.toString()).isEmpty();
      Project.read(example);
    }
  }

  @Test
  void refusesWhatTheBindingRefuses() throws Exception {
    String builtIn = DefaultProject.text();
    assertThat(validate(builtIn + "serach: {budget: 3}\n")).isNotEmpty();
    assertThat(validate(builtIn.replace("search: {budget: 4", "search: {budget: 0"))).isNotEmpty();
    assertThat(validate(builtIn.replace("task: retrieval?k=10\n", ""))).isNotEmpty();
    assertThat(validate(builtIn + "approach: int3\n")).isNotEmpty();
  }
}
