package io.quantguard.workflow;

import io.quantguard.registry.ArtifactVersion;
import io.quantguard.registry.Registration;
import io.quantguard.registry.Registry;
import io.quantguard.registry.Stage;
import io.quantguard.report.Sha256;
import java.nio.file.Path;
import java.util.List;

/**
 * The register step: the FP32 model as {@code NAME-fp32} and the candidate as {@code NAME}, its
 * child in the lineage, with the final report and the gate's verdict in the note. A file the
 * registry already holds under that name is not registered again: its version is used. When the
 * project rolls candidates out and {@code NAME} has no production version yet, the FP32 model
 * becomes {@code NAME}'s first version, in production, so the rollout has what serves today to be
 * judged against.
 */
final class Registering {
  private Registering() {}

  static Workflow.Registered register(
      String location,
      Project project,
      Path fp32,
      Path candidate,
      Path report,
      Workflow.Candidate c,
      Workflow.Verdict verdict,
      String actor) {
    Registry registry = Registry.open(location);
    String parentName = project.name() + "-fp32";
    ArtifactVersion parent =
        once(
            registry,
            new Registration(
                fp32, parentName, null, null, null, "FP32 baseline of " + project.source(), actor));
    if (project.rollout() != null
        && versions(registry, project.name()).stream()
            .noneMatch(v -> v.stage() == Stage.PRODUCTION)) {
      ArtifactVersion serving =
          once(
              registry,
              new Registration(
                  fp32,
                  project.name(),
                  parent.ref().toString(),
                  null,
                  null,
                  "FP32 baseline of " + project.source() + ", served before rollouts",
                  actor));
      registry.promote(
          serving.ref(),
          Stage.PRODUCTION,
          "the FP32 model serves until a candidate is rolled out (" + project.source() + ")",
          actor);
    }
    String note =
        String.format(
            "quantguard run %s: %s, gate %s policy '%s'",
            project.source(),
            c.approach() + (c.tuned() ? " (tuned)" : ""),
            verdict.passed() ? "PASS" : "FAIL",
            verdict.policy());
    ArtifactVersion child =
        once(
            registry,
            new Registration(
                candidate, project.name(), parent.ref().toString(), null, report, note, actor));
    return new Workflow.Registered(
        registry.location(), parent.ref().toString(), child.ref().toString());
  }

  /** The version holding {@code r}'s file under its name, registering it first if there is none. */
  private static ArtifactVersion once(Registry registry, Registration r) {
    List<ArtifactVersion> known = versions(registry, r.model());
    if (!known.isEmpty()) { // hash the file only when there is something to compare it with
      String sha = Sha256.of(r.file());
      for (ArtifactVersion v : known) {
        if (v.sha256().equals(sha)) {
          return v;
        }
      }
    }
    return registry.register(r);
  }

  /** The model's versions; none for a model the registry does not know yet. */
  private static List<ArtifactVersion> versions(Registry registry, String model) {
    if (registry.models().stream().noneMatch(m -> m.name().equals(model))) {
      return List.of();
    }
    return registry.versions(model);
  }
}
