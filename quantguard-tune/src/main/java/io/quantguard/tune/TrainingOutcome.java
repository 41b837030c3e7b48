package io.quantguard.tune;

import org.jspecify.annotations.Nullable;

/**
 * Quantization-aware training tried as a whole-model repair: what it trained, where the trained
 * FP32 model is kept, and its measured effect.
 *
 * @param steps the training steps taken
 * @param model the trained FP32 model's file, relative to the tuning directory; a resumed run loads
 *     it instead of training again
 * @param modelSha256 the SHA-256 of that file, checked when it is loaded
 * @param recipeTrial the trial whose recipe was trained and is measured on the trained weights:
 *     {@code beforeTrial}, or the start recipe's when the training cannot take that one's repairs
 * @param beforeTrial the trial it had to beat: the start recipe, or its node repairs when they
 *     helped
 * @param before that trial's quality (the policy's first quality rule)
 * @param trial the trial of the trained weights under the same recipe; null when the budget ran out
 *     first
 * @param after that trial's quality
 * @param improved whether that trial came closer to the policy than {@code beforeTrial}; it stands
 *     among the trials either way, and is the answer when it is the best of them
 */
public record TrainingOutcome(
    String description,
    long steps,
    String model,
    String modelSha256,
    int recipeTrial,
    int beforeTrial,
    @Nullable Double before,
    @Nullable Integer trial,
    @Nullable Double after,
    boolean improved) {

  TrainingOutcome measured(Trial t, boolean better) {
    return new TrainingOutcome(
        description,
        steps,
        model,
        modelSha256,
        recipeTrial,
        beforeTrial,
        before,
        t.index(),
        t.quality(),
        better);
  }
}
