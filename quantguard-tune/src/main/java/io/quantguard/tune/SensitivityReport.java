package io.quantguard.tune;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Which quantized nodes hurt the model most, ranked worst first, with the evidence: the SQNR of the
 * model's outputs when only that node is quantized (and of the node's own output), and the error
 * each quantized activation tensor adds on its own. SQNR = 10·log₁₀(Σx² / Σ(x − x̂)²) dB against
 * FP32; lower is worse.
 *
 * @param fullOutputSqnrDb model output SQNR with every planned node quantized
 * @param taskImpact the task metric for the most sensitive nodes, when a task was given
 * @param evaluations models built and run (one per node analyzed, plus the full one, plus the
 *     paired task evaluation)
 */
public record SensitivityReport(
    String model,
    String recipeSha256,
    long calibrationSamples,
    long validationSamples,
    double fullOutputSqnrDb,
    List<NodeSensitivity> nodes,
    List<TensorError> tensors,
    @Nullable TaskImpact taskImpact,
    int evaluations,
    double seconds) {

  /**
   * One node quantized alone.
   *
   * @param outputSqnrDb model outputs vs FP32 with only this node quantized
   * @param nodeOutputSqnrDb this node's own output vs FP32 in that model
   */
  public record NodeSensitivity(
      String node, String opType, double outputSqnrDb, double nodeOutputSqnrDb) {}

  /** The error quantize→dequantize adds to one activation tensor with its planned parameters. */
  public record TensorError(String tensor, double sqnrDb) {}

  /**
   * The task metric (the task's headline: accuracy, cosine_mean, ...) of the model with every node
   * quantized and, per sensitive node, with only it quantized and with only it left in float.
   *
   * @param fp32 the baseline's value, null for metrics that compare with the baseline themselves
   */
  public record TaskImpact(
      String metric,
      boolean higherIsBetter,
      @Nullable Double fp32,
      @Nullable Double allQuantized,
      List<NodeTaskImpact> nodes) {}

  /** One node's effect on the task metric. */
  public record NodeTaskImpact(
      String node, @Nullable Double onlyThisQuantized, @Nullable Double onlyThisFloat) {}
}
