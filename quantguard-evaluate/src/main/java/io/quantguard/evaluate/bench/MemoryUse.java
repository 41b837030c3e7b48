package io.quantguard.evaluate.bench;

import org.jspecify.annotations.Nullable;

/**
 * Resident memory one model's session needs, in bytes ({@code null} where the platform does not
 * say). Read before the session is created, right after it, and after warm-up; the peak covers
 * creation and warm-up. Growth figures are differences to the reading before the session:
 *
 * <pre>
 * peakGrowth   = peakRss − rssBefore       (what the model costs at its worst: size a container by this)
 * steadyGrowth = rssAfterWarmup − rssBefore (what it keeps while serving)
 * </pre>
 *
 * In-process the readings include whatever else the JVM allocated meanwhile (heap growth for output
 * copies, for instance); an isolated child JVM ({@code --isolate}) has nothing else to allocate.
 *
 * @param method how the figures were taken, in words
 */
public record MemoryUse(
    String method,
    @Nullable Long rssBefore,
    @Nullable Long rssAfterSession,
    @Nullable Long rssAfterWarmup,
    @Nullable Long peakRss,
    @Nullable Long peakGrowth,
    @Nullable Long steadyGrowth) {

  static MemoryUse of(String method, long before, long afterSession, long afterWarmup, long peak) {
    Long b = known(before);
    Long w = known(afterWarmup);
    Long p = known(peak);
    return new MemoryUse(
        method,
        b,
        known(afterSession),
        w,
        p,
        b == null || p == null ? null : p - b,
        b == null || w == null ? null : w - b);
  }

  private static @Nullable Long known(long v) {
    return v < 0 ? null : v;
  }
}
