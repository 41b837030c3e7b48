package io.quantguard.workflow;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.quantguard.evaluate.Bootstrap;
import io.quantguard.evaluate.Evaluation;
import io.quantguard.quantize.Recipe;
import io.quantguard.quantize.RecipeIO;
import io.quantguard.report.Policy;
import io.quantguard.runtime.ResourceLocator;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.DataSpec;
import io.quantguard.tune.FallbackPrecision;
import io.quantguard.tune.Tuner;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A project's settings as the steps use them: texts read from the files the project names, data
 * specs parsed, and the workflow's defaults where the project is silent. Every step reads its
 * inputs here, so a default lives in one place and the step keys see the same values the steps do.
 */
final class ProjectInputs {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  final Project project;
  final Workflow.Listener listener;

  ProjectInputs(Project project, Workflow.Listener listener) {
    this.project = project;
    this.listener = listener;
  }

  /** The tuning search with the project's settings over the defaults. */
  record Search(int budget, int rankSamples, Set<String> repairs, FallbackPrecision fallback) {}

  Search search() {
    Tuner.Options d = Tuner.Options.defaults();
    Project.Search s = project.search();
    return new Search(
        s.budget() != null ? s.budget() : 12,
        s.rankSamples() != null ? s.rankSamples() : d.rankSamples(),
        new TreeSet<>(
            s.repairs() != null
                ? s.repairs()
                : d.repairs()), // sorted: the key must not depend on set order
        s.fallback() != null
            ? FallbackPrecision.parse("search.fallback", s.fallback())
            : d.fallback());
  }

  int batchSize() {
    Integer n = project.evaluation().batchSize();
    return n != null ? n : 32;
  }

  int bootstrap() {
    Integer n = project.evaluation().bootstrap();
    return n != null ? n : 500;
  }

  int probeSamples() {
    Integer n = project.evaluation().probeSamples();
    return n != null ? n : 64;
  }

  SessionConfig session() {
    Integer t = project.evaluation().threads();
    return SessionConfig.defaults().withThreads(t != null ? t : 0);
  }

  /** The evaluation settings as one string, for the step keys. */
  String evaluationSettings() {
    return batchSize() + "/" + bootstrap() + "/" + session();
  }

  /** An evaluation of {@code model} as the FP32 baseline, under the project's settings. */
  Evaluation.Builder evaluation(Path model) {
    return Evaluation.builder()
        .baseline("fp32", model)
        .batchSize(batchSize())
        .session(session())
        .bootstrap(new Bootstrap(bootstrap(), 0.95, 42))
        .progress(listener.progress());
  }

  String policyText() {
    return policyText(project.policy());
  }

  /** The rollout's live policy: the project's, or the task's default. */
  String livePolicyText(Project.RolloutSpec spec) {
    JsonNode node = spec.policy();
    return node == null || node.isNull() ? RollingOut.defaultPolicy(project) : policyText(node);
  }

  /** A policy the project gives as a file or inline. */
  private String policyText(JsonNode node) {
    if (node.isTextual()) {
      return Policy.text(project.path(node.asText()));
    }
    return yaml(node);
  }

  Recipe startRecipe() {
    JsonNode node = project.start();
    if (node == null || node.isNull()) {
      return Recipe.builder().build();
    }
    if (node.isTextual()) {
      String ref = node.asText();
      return RecipeIO.read(
          ref.startsWith("classpath:") ? ResourceLocator.resolve(ref) : project.path(ref));
    }
    return RecipeIO.parse(yaml(node), project.source() + ": start");
  }

  List<Evaluation.Data> dataSets(Map<String, Project.DataSet> sets) {
    List<Evaluation.Data> out = new ArrayList<>();
    sets.forEach(
        (name, set) -> out.add(new Evaluation.Data(name, DataSpec.parse(project.spec(set)))));
    return out;
  }

  List<String> specs(Map<String, Project.DataSet> sets) {
    List<String> out = new ArrayList<>();
    sets.forEach((name, set) -> out.add(name + "=" + project.spec(set)));
    return out;
  }

  private static String yaml(JsonNode node) {
    try {
      return YAML.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
