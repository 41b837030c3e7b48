/**
 * Evaluation reports and the policy language, without ONNX Runtime: what a CI gate, the registry
 * and a serving process need to read a report and judge a candidate.
 *
 * <p>Entry points: {@link io.quantguard.report.EvaluationReport} (the {@code report.json} model,
 * read by {@link io.quantguard.report.ReportReader}, written by {@link
 * io.quantguard.report.ReportWriter}), {@link io.quantguard.report.Policy} (judges any {@link
 * io.quantguard.report.Measurements}: an offline report or a live window) and {@link
 * io.quantguard.report.Gate} (the CI gate over a report file). Also {@link
 * io.quantguard.report.AtomicFile} and {@link io.quantguard.report.Sha256}, which every module that
 * writes or names artifacts shares.
 */
@NullMarked
package io.quantguard.report;

import org.jspecify.annotations.NullMarked;
