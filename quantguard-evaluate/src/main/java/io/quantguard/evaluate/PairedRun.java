package io.quantguard.evaluate;

import io.quantguard.evaluate.drift.CalibrationRanges;
import io.quantguard.evaluate.drift.OverflowCounts;
import io.quantguard.evaluate.drift.OverflowProbe;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.ModelIO;
import io.quantguard.report.CalibrationCoverage;
import io.quantguard.report.EvaluationReport;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.Prefetch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One run of an {@link Evaluation} with its task's prediction type bound. */
final class PairedRun<P> {
  private static final Logger LOG = LoggerFactory.getLogger(Evaluation.class);

  private final Evaluation ev;
  private final Task<P> task;
  private final List<Slicer> slicers = new ArrayList<>();
  private final int models;
  private final PairedAccumulator<P> state;
  private final List<String> warnings = new ArrayList<>();
  private final InputHashes hashes = new InputHashes();
  private final Optional<Rapl> rapl = Rapl.open(Path.of("/sys/class/powercap"));
  private final long[] loadRss;
  private final List<InferenceSession> sessions = new ArrayList<>();
  private final List<List<String>> outputs = new ArrayList<>();
  private @Nullable OverflowProbe probe;

  PairedRun(Evaluation ev, Task<P> task) {
    this.ev = ev;
    this.task = task;
    this.models = ev.models.size();
    this.loadRss = new long[models];
    if (task.sliceable()) {
      if (ev.data.size() > 1 && ev.slicers.stream().noneMatch(s -> s instanceof Slicer.ByData)) {
        slicers.add(new Slicer.ByData());
      }
      slicers.addAll(ev.slicers);
    } else if (!ev.slicers.isEmpty()) {
      warn(
          "the " + task.name() + " task scores the whole data set at once; its slices are ignored");
    }
    this.state = new PairedAccumulator<>(slicers, models, ev.bootstrap);
  }

  EvaluationReport run() {
    if (ev.calibration != null) {
      try (BatchStream s = ev.calibration.open(ev.batchSize)) {
        while (s.hasNext()) {
          hashes.addCalibration(s.next());
        }
      }
    }
    try {
      for (Evaluation.Model m : ev.models) {
        long before = ProcessStats.rssBytes();
        InferenceSession s = InferenceSession.open(m.file(), ev.session);
        sessions.add(s);
        loadRss[sessions.size() - 1] = ProcessStats.rssBytes() - before;
        outputs.add(task.outputs(m.name(), s.outputNames()));
      }
      if (ev.calibrationRanges != null) {
        CalibrationRanges ranges = CalibrationRanges.of(ModelIO.load(ev.calibrationRanges));
        probe = OverflowProbe.open(ev.models.get(0).file(), ranges, ev.session);
      }
      List<EvaluationReport.DataInfo> dataInfo = pass();
      return report(dataInfo);
    } finally {
      sessions.forEach(InferenceSession::close);
      if (probe != null) {
        probe.close();
      }
    }
  }

  /** The single pass: every batch through every model, then into every slice's accumulators. */
  private List<EvaluationReport.DataInfo> pass() {
    List<EvaluationReport.DataInfo> info = new ArrayList<>();
    boolean warm = false;
    long batches = 0;
    long position = 0;
    for (Evaluation.Data d : ev.data) {
      long done = 0;
      // Decoding and tokenizing the next batches overlaps with inference.
      try (BatchStream s = Prefetch.of(d.source().open(ev.batchSize), 2)) {
        while (s.hasNext()) {
          Batch b = s.next();
          if (!warm) {
            warmUp(b);
            warm = true;
          }
          hashes.addTest(d.name(), b);
          // The first model after a batch arrives shares the CPU with the reader decoding the next
          // one: rotating the order (A B C, B C A, ...) spreads that over all models alike.
          List<P> predictions = new ArrayList<>(Collections.nCopies(models, null));
          for (int i = 0; i < models; i++) {
            int m = (int) ((batches + i) % models);
            predictions.set(m, task.predict(b, timed(m, b)));
          }
          batches++;
          // The FP32 activations for calibration coverage: one more baseline run, untimed.
          OverflowCounts clipping = probe == null ? null : probe.count(b.inputs());
          route(d.name(), b, predictions, clipping, position);
          done += b.size();
          position += b.size();
          ev.progress.update(d.name(), done, d.source().size().orElse(-1));
        }
      }
      if (done == 0) {
        throw new InvalidInputException(
            d.source().name(), "has no samples", "check the path, offset and limit");
      }
      info.add(new EvaluationReport.DataInfo(d.name(), d.source().name(), done));
    }
    return info;
  }

  /**
   * One untimed run per model on the first batch, so that first-run allocations and lazy
   * initialization do not show up as latency.
   */
  private void warmUp(Batch b) {
    for (int m = 0; m < models; m++) {
      long before = ProcessStats.rssBytes();
      sessions.get(m).run(b.inputs(), outputs.get(m));
      loadRss[m] += ProcessStats.rssBytes() - before;
    }
  }

  private Map<String, Tensor> timed(int m, Batch b) {
    long cpu0 = ProcessStats.cpuNanos();
    double e0 = rapl.map(Rapl::joules).orElse(0.0);
    long t0 = System.nanoTime();
    Map<String, Tensor> out = sessions.get(m).run(b.inputs(), outputs.get(m));
    long elapsed = System.nanoTime() - t0;
    long cpu = ProcessStats.cpuNanos() - cpu0;
    double joules = rapl.map(Rapl::joules).orElse(0.0) - e0;
    state.recordRun(m, b.size(), elapsed, cpu, joules);
    return out;
  }

  private void route(
      String dataset,
      Batch b,
      List<P> predictions,
      @Nullable OverflowCounts clipping,
      long position) {
    Map<String, int[]> rows = state.add(task, dataset, b, predictions, position);
    OverflowProbe clippingProbe = probe;
    if (clipping != null && clippingProbe != null) {
      state.addClipping(clippingProbe.ranges(), dataset, b, clipping, rows);
    }
  }

  private EvaluationReport report(List<EvaluationReport.DataInfo> dataInfo) {
    OverflowProbe clippingProbe = probe;
    Path rangesModel = ev.calibrationRanges;
    CalibrationCoverage covered =
        clippingProbe == null || rangesModel == null
            ? null
            : state.coverage(rangesModel.toString(), clippingProbe.matched());
    if (rapl.isEmpty()) {
      LOG.info(
          "energy is an estimate (CPU seconds × {} W per core): RAPL counters under"
              + " /sys/class/powercap are not readable here",
          ev.wattsPerCore);
    }
    List<PairedAccumulator.Model> described = new ArrayList<>();
    for (int m = 0; m < models; m++) {
      Evaluation.Model model = ev.models.get(m);
      described.add(PairedAccumulator.Model.of(model.name(), model.file(), loadRss[m]));
    }
    long peak = ProcessStats.peakRssBytes();
    return state.report(
        task,
        new PairedAccumulator.Facts(
            ev.taskSpec,
            dataInfo,
            new EvaluationReport.Settings(
                ev.batchSize,
                ev.bootstrap.resamples(),
                ev.bootstrap.confidence(),
                ev.bootstrap.seed(),
                ev.session.toString(),
                slicers.stream().map(Slicer::spec).toList(),
                ev.wattsPerCore,
                ev.bootstrap.keyed() ? "poisson" : null),
            described,
            rapl.isPresent(),
            hashes.summary(),
            peak < 0 ? null : peak,
            covered,
            warnings));
  }

  private void warn(String w) {
    warnings.add(w);
    LOG.warn(w);
  }
}
