package io.quantguard.runtime;

/**
 * Where long work (calibration, evaluation, benchmarks) reports how far it got. Libraries call it;
 * the command line draws a progress bar on a terminal and stays silent otherwise.
 */
@FunctionalInterface
public interface Progress {
  Progress NONE = (stage, done, total) -> {};

  /**
   * @param total the amount of work, or -1 when it is not known in advance
   */
  void update(String stage, long done, long total);
}
