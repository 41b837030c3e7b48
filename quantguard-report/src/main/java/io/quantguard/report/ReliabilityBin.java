package io.quantguard.report;

/**
 * One confidence bin of a reliability diagram (behind the expected calibration error): the
 * confidences it holds, (lower, upper], how many predictions fell in it, their accuracy and their
 * mean confidence.
 */
public record ReliabilityBin(
    double lower, double upper, long count, double accuracy, double confidence) {}
