package io.quantguard.evaluate.task;

/**
 * Predicted classes of one batch.
 *
 * @param classes number of classes the model scores
 * @param top1 the predicted class per row
 * @param topK the k best classes per row, best first, row-major [rows, k]
 * @param k how many classes {@code topK} holds per row
 * @param confidence the top class's probability per row
 * @param margin the top class's probability minus the runner-up's per row (the confidence itself
 *     when there is one class): how near the prediction was to a tie
 */
record ClassPredictions(
    int classes, int[] top1, int[] topK, int k, float[] confidence, float[] margin) {
  boolean inTopK(int row, long label) {
    for (int j = 0; j < k; j++) {
      if (topK[row * k + j] == label) {
        return true;
      }
    }
    return false;
  }
}
