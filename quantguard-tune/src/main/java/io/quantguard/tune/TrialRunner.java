package io.quantguard.tune;

import io.quantguard.quantize.Recipe;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Where the tuner's search measures its candidates: a cheap probe (the output SQNR of the model a
 * recipe makes, on a few samples) that ranks groups and picks repairs, and a full trial (the
 * candidate evaluated against FP32 on all the data and judged by the policy). The local runner
 * quantizes and evaluates on this machine; another one may run trials elsewhere. The search itself
 * only decides which recipe to try next.
 */
public interface TrialRunner {
  /** The SQNR in dB of the outputs of the model {@code recipe} makes, against FP32. */
  double outputSqnrDb(Recipe recipe);

  /**
   * Evaluates {@code recipe} on the full data, or on the held-out data when {@code confirmation}
   * and there is some, and judges it by the policy; {@code index} numbers the trial's files.
   */
  Outcome run(int index, Recipe recipe, boolean confirmation);

  /**
   * A trial's verdict and measured cost.
   *
   * @param qualityPassed every rule on what the model computes holds (cost rules aside)
   * @param quality the first quality rule's metric value for the candidate
   * @param latencyRatio candidate / baseline p95 latency in the same run
   * @param sizeRatio candidate / baseline model size
   * @param gaps the failed checks (empty when the policy holds)
   * @param shortfall sum of the failed checks' relative distances to their limits (0 when passed)
   */
  record Outcome(
      boolean qualityPassed,
      @Nullable Double quality,
      @Nullable Double latencyRatio,
      @Nullable Double sizeRatio,
      List<Trial.Gap> gaps,
      double shortfall) {
    public Outcome {
      gaps = List.copyOf(gaps);
    }

    public boolean passed() {
      return gaps.isEmpty();
    }
  }
}
