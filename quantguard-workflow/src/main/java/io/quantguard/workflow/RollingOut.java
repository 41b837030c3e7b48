package io.quantguard.workflow;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.registry.ArtifactRef;
import io.quantguard.registry.Registry;
import io.quantguard.registry.RolloutRecord;
import io.quantguard.report.Policy;
import io.quantguard.serve.RolloutController;
import io.quantguard.serve.RolloutSettings;
import java.time.Duration;
import java.util.Optional;

/**
 * The rollout step: a candidate that passed the gate is put in the registry as a rollout against
 * the model's production version, which {@code quantguard serve} then runs step by step under the
 * live policy. The step only writes the rollout: serving it is the server's job. It always reads
 * the registry afresh, so a rerun reports where the rollout stands (under way, promoted, rolled
 * back) instead of starting it again.
 */
final class RollingOut {
  private RollingOut() {}

  static Workflow.Rollout rollout(
      String location,
      Project project,
      Project.RolloutSpec spec,
      String livePolicy,
      Workflow.Registered registered,
      Workflow.Verdict verdict,
      String actor) {
    RolloutSettings settings = settings(spec);
    String serve = "quantguard serve --registry " + location + " --model " + project.name();
    ArtifactRef candidate = ArtifactRef.parse(registered.candidate());
    Registry registry = Registry.open(location);
    Optional<RolloutRecord> latest = registry.latestRollout(project.name());
    if (latest.isPresent()
        && Integer.valueOf(latest.get().candidate()).equals(candidate.version())) {
      return result(latest.get(), serve, false);
    }
    if (!verdict.passed()) {
      return new Workflow.Rollout(
          "not started: the candidate failed the gate",
          registered.candidate(),
          null,
          settings.mode().id(),
          settings.steps(),
          Policy.parse(livePolicy, "rollout.policy").name(),
          serve);
    }
    Optional<RolloutRecord> active = registry.activeRollout(project.name());
    if (active.isPresent()) {
      throw new InvalidInputException(
          project.source() + ": rollout",
          "cannot start a rollout of "
              + registered.candidate()
              + ": "
              + active.get().candidateRef()
              + " is being rolled out ("
              + active.get().status().id()
              + ")",
          "let that rollout finish, or end it on the server that runs it: POST /v2/rollouts/"
              + project.name()
              + "/rollback");
    }
    // Only the record matters here; the controller that serves it is the server's.
    RolloutController.start(
            registry,
            candidate,
            settings,
            livePolicy,
            project.source() + ": rollout.policy",
            "quantguard run " + project.source() + ": the gate passed '" + verdict.policy() + "'",
            actor)
        .close();
    return result(registry.latestRollout(project.name()).orElseThrow(), serve, true);
  }

  /** The settings the project names, the server's defaults for the rest. */
  static RolloutSettings settings(Project.RolloutSpec spec) {
    RolloutSettings d = RolloutSettings.defaults();
    return new RolloutSettings(
        spec.mode() == null ? d.mode() : RolloutSettings.Mode.parse(spec.mode()),
        spec.steps() == null ? d.steps() : spec.steps(),
        spec.intervalS() == null
            ? d.interval()
            : Duration.ofMillis(Math.round(spec.intervalS() * 1000)),
        spec.minSamples() == null ? d.minSamples() : spec.minSamples(),
        spec.maxFailedIntervals() == null ? d.maxFailedIntervals() : spec.maxFailedIntervals());
  }

  /**
   * The live policy when the project names none: the flip rate for a classifier, the mean cosine of
   * the outputs for anything else (embeddings, regressions).
   */
  static String defaultPolicy(Project project) {
    boolean classifier = project.task().strip().startsWith("classification");
    return "name: "
        + project.name()
        + "-live\nrules:\n"
        + (classifier ? "  flip_rate: {max: 2%}\n" : "  cosine_mean: {min: 0.99}\n");
  }

  /** Where the rollout stands, under the settings and policy it was started with. */
  private static Workflow.Rollout result(RolloutRecord r, String serve, boolean started) {
    RolloutSettings settings = RolloutSettings.fromJson(r.settings(), "rollout " + r.id());
    String status =
        started
            ? "started"
            : switch (r.status()) {
              case RUNNING, PAUSED ->
                  "under way ("
                      + r.status().id()
                      + ", step "
                      + (r.step() + 1)
                      + " of "
                      + settings.steps().size()
                      + ")";
              case PROMOTED -> "promoted";
              case ROLLED_BACK -> "rolled back";
            };
    return new Workflow.Rollout(
        status,
        r.candidateRef().toString(),
        r.baselineRef().toString(),
        r.mode(),
        settings.steps(),
        Policy.parse(r.policyText(), "rollout " + r.id()).name(),
        serve);
  }
}
