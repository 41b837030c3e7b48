package io.quantguard.workflow;

import io.quantguard.onnx.CpuFeatures;
import io.quantguard.onnx.Node;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.quantize.Recipe;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Which quantization approach to start from, and why, decided from three things: the model's op
 * mix, this CPU's instruction sets and a quick sensitivity probe (the output SQNR of the model with
 * the start recipe applied statically, calibrated on a few samples).
 *
 * <ul>
 *   <li>Recurrent layers (LSTM, GRU, RNN): dynamic — static QDQ does not cover them, ONNX Runtime's
 *       dynamic kernels do.
 *   <li>Convolutions: static — dynamic Conv (ConvInteger) has no fast CPU kernel. When the probe
 *       keeps less than {@value #STATIC_MIN_DB} dB and libtorch can be loaded, static with
 *       quantization-aware training: the weights learn to fit the int8 grid, which calibration and
 *       tuning alone cannot do.
 *   <li>MatMul/Gemm (transformers): static when the probe keeps at least {@value #STATIC_MIN_DB} dB
 *       at the output (tuning can then repair or fall back the sensitive nodes); below that,
 *       activations vary too much for one calibrated range, and dynamic quantization (ranges per
 *       batch) is the safer start.
 *   <li>Neither: fp16 — int8 has nothing to speed up.
 * </ul>
 *
 * The CPU does not change the approach (static int8 is still the smallest and, where it is faster
 * at all, the fastest), but without an int8 dot-product instruction (VNNI, AMX, SDOT) the reason
 * says to expect mostly a size gain, not a speed-up.
 *
 * @param approach the quantization mode to start from
 * @param quantizationAware whether the static model is trained quantization-aware first
 * @param reason one sentence a reviewer reads
 * @param opMix node count per op type
 * @param int8DotProduct the CPU's best int8 dot-product instruction set, or {@code none}
 * @param probeSqnrDb the probe's output SQNR in dB, or null when no probe ran
 * @param chosenBy {@code recommended}, or {@code project} when the project file named it
 */
public record Recommendation(
    Recipe.Mode approach,
    boolean quantizationAware,
    String reason,
    Map<String, Integer> opMix,
    String int8DotProduct,
    @Nullable Double probeSqnrDb,
    String chosenBy) {

  /** Output SQNR below which a static start is not recommended for MatMul-dominated models. */
  static final double STATIC_MIN_DB = 15.0;

  private static final Set<String> RECURRENT = Set.of("LSTM", "GRU", "RNN");
  private static final Set<String> CONV = Set.of("Conv", "ConvTranspose");
  private static final Set<String> MATMUL = Set.of("MatMul", "Gemm");

  /** The model's node count per op type, sorted by op type. */
  static Map<String, Integer> opMix(OnnxModel model) {
    Map<String, Integer> mix = new TreeMap<>();
    for (Node n : model.graph().nodes()) {
      mix.merge(n.opType(), 1, Integer::sum);
    }
    return mix;
  }

  /** Whether a static probe can run: the model has nodes static int8 speeds up. */
  static boolean needsProbe(Map<String, Integer> mix) {
    return count(mix, RECURRENT) == 0 && (count(mix, CONV) > 0 || count(mix, MATMUL) > 0);
  }

  /**
   * Recommends an approach.
   *
   * @param probeSqnrDb the static probe's output SQNR, or null where none ran
   * @param trainable whether quantization-aware training can run here (asked only when it would be
   *     recommended)
   */
  static Recommendation recommend(
      Map<String, Integer> mix,
      CpuFeatures cpu,
      @Nullable Double probeSqnrDb,
      BooleanSupplier trainable) {
    int recurrent = count(mix, RECURRENT);
    int conv = count(mix, CONV);
    int matmul = count(mix, MATMUL);
    Recipe.Mode approach;
    boolean qat = false;
    String why;
    if (recurrent > 0) {
      approach = Recipe.Mode.DYNAMIC;
      why =
          recurrent
              + " recurrent node(s): ONNX Runtime quantizes LSTM/GRU dynamically, static QDQ does"
              + " not cover them";
    } else if (conv > 0
        && probeSqnrDb != null
        && probeSqnrDb < STATIC_MIN_DB
        && trainable.getAsBoolean()) {
      approach = Recipe.Mode.STATIC;
      qat = true;
      why =
          String.format(
              Locale.ROOT,
              "%d convolution(s) but the static probe keeps only %.1f dB at the output (< %.0f"
                  + " dB): static int8 with quantization-aware training, so the weights learn to"
                  + " fit the int8 grid",
              conv,
              probeSqnrDb,
              STATIC_MIN_DB);
    } else if (conv > 0) {
      approach = Recipe.Mode.STATIC;
      why =
          conv
              + " convolution(s): static QDQ runs them as integer kernels, dynamic Conv"
              + " (ConvInteger) has no fast CPU kernel"
              + (probeSqnrDb == null
                  ? ""
                  : String.format(
                      Locale.ROOT, "; the static probe keeps %.1f dB at the output", probeSqnrDb));
    } else if (matmul > 0) {
      if (probeSqnrDb == null || probeSqnrDb >= STATIC_MIN_DB) {
        approach = Recipe.Mode.STATIC;
        why =
            String.format(
                Locale.ROOT,
                "%d MatMul/Gemm node(s) and the static probe keeps %s at the output (≥ %.0f dB):"
                    + " calibrated int8 activations, tuning repairs or falls back what is sensitive",
                matmul,
                probeSqnrDb == null
                    ? "an unknown SQNR"
                    : String.format(Locale.ROOT, "%.1f dB", probeSqnrDb),
                STATIC_MIN_DB);
      } else {
        approach = Recipe.Mode.DYNAMIC;
        why =
            String.format(
                Locale.ROOT,
                "%d MatMul/Gemm node(s) but the static probe keeps only %.1f dB at the output (<"
                    + " %.0f dB): activation ranges vary too much for one calibrated range, so"
                    + " ranges per batch (dynamic int8)",
                matmul,
                probeSqnrDb,
                STATIC_MIN_DB);
      }
    } else {
      approach = Recipe.Mode.FP16;
      why = "no Conv, MatMul or recurrent node: int8 has nothing to speed up, fp16 halves the size";
    }
    String dot = cpu.int8DotProduct();
    String cpuNote =
        "none".equals(dot)
            ? "; this CPU has no int8 dot-product instruction (VNNI, AMX, SDOT), so expect mostly a"
                + " size gain, little speed-up"
            : "unknown".equals(dot)
                ? "; this CPU's instruction sets are unknown"
                : "; this CPU has " + dot + " for int8 dot products";
    return new Recommendation(approach, qat, why + cpuNote, mix, dot, probeSqnrDb, "recommended");
  }

  /** The approach the project file names, with the evidence still recorded. */
  Recommendation chosenByProject(Recipe.Mode approach, boolean quantizationAware) {
    return new Recommendation(
        approach,
        quantizationAware,
        "named by the project file (the recommendation was "
            + this.approach
            + (this.quantizationAware ? " with quantization-aware training" : "")
            + ": "
            + reason
            + ")",
        opMix,
        int8DotProduct,
        probeSqnrDb,
        "project");
  }

  private static int count(Map<String, Integer> mix, Set<String> ops) {
    return ops.stream().mapToInt(o -> mix.getOrDefault(o, 0)).sum();
  }
}
