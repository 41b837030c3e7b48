package io.quantguard.cli;

import static java.util.Map.entry;

import io.quantguard.onnx.InvalidInputException;
import java.util.Map;

/**
 * The flag that sets each library parameter: the one place where the library's parameter keys
 * ({@link InvalidInputException#parameter()}) meet the command line's words, so a library error
 * about {@code evaluation.batchSize} reads {@code --batch-size 0: is not positive} here and a
 * server can name its JSON field instead.
 */
final class ParameterFlags {
  private static final Map<String, String> FLAGS =
      Map.ofEntries(
          entry("calibration", "--calibration"),
          entry("qat.data", "--data"),
          entry("qat.epochs", "--epochs"),
          entry("qat.batchSize", "--batch-size"),
          entry("qat.learningRate", "--lr"),
          entry("qat.layers", "--layers"),
          entry("qat.output", "--logits"),
          entry("qat.optimizer", "--optimizer"),
          entry("qat.schedule", "--schedule"),
          entry("qat.warmupSteps", "--warmup"),
          entry("qat.validateEvery", "--validate-every"),
          entry("qat.patience", "--patience"),
          entry("qat.checkpointEvery", "--checkpoint-every"),
          entry("evaluation.baseline", "--baseline"),
          entry("evaluation.candidate", "--candidate"),
          entry("evaluation.data", "--data"),
          entry("evaluation.task", "--task"),
          entry("evaluation.batchSize", "--batch-size"),
          entry("evaluation.wattsPerCore", "--watts-per-core"),
          entry("evaluation.sliceBy", "--slice-by"),
          entry("bench.data", "--data"),
          entry("bench.batchSizes", "--batch"),
          entry("bench.warmupPasses", "--warmup"),
          entry("bench.durationSeconds", "--duration"),
          entry("bench.trials", "--trials"),
          entry("load.data", "--data"),
          entry("load.rows", "--rows"),
          entry("tune.out", "--out"),
          entry("tune.budget", "--budget"),
          entry("tune.rankSamples", "--rank-samples"),
          entry("tune.fallback", "--fallback"),
          entry("tune.repairs", "--repairs"),
          entry("tune.qatSteps", "--qat-steps"),
          entry("registration.model", "--name"),
          entry("registration.parent", "--parent"),
          entry("rollback.to", "--to"),
          entry("policy.sha256", "--sha256"),
          entry("change.reason", "--reason"),
          entry("change.actor", "--actor"),
          entry("server.models", "--model"),
          entry("gate.policy", "--policy"),
          entry("gate.report", "--report"),
          entry("server.address", "--host/--port"),
          entry("server.tokenFile", "--token-file"),
          entry("server.modelFile", "--model-file"),
          entry("rollout.mode", "--rollout-mode"),
          entry("rollout.steps", "--rollout-steps"),
          entry("rollout.interval", "--rollout-interval-s"),
          entry("rollout.minSamples", "--rollout-min-samples"),
          entry("rollout.maxFailedIntervals", "--rollout-max-failed-intervals"),
          entry("rollout.policy", "--rollout-policy"),
          entry("audit.policy", "--policy"),
          entry("audit.task", "--task"),
          entry("reproduction.calibration", "--calibration"),
          entry("registration.recipe", "--recipe"));

  private ParameterFlags() {}

  /** The error's message, naming the flag instead of the parameter key where a flag sets it. */
  static String message(InvalidInputException e) {
    return e.parameter()
        .map(FLAGS::get)
        .map(e::messageNaming)
        .orElse(String.valueOf(e.getMessage()));
  }
}
