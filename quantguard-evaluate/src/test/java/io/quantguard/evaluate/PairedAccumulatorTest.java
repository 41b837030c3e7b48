package io.quantguard.evaluate;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.onnx.TestModels;
import io.quantguard.report.EvaluationReport;
import io.quantguard.report.MetricEstimate;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataSpec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The paired evaluation state split over parts, each carried through Java serialization (as it
 * travels between machines) and merged in a scrambled order, gives the report of one pass: bit for
 * bit under Poisson resampling, and with the point estimates of the multinomial one-pass report.
 */
class PairedAccumulatorTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private record Scored<P>(Batch batch, List<P> predictions, long position) {}

  @Test
  void splitAndMergedInAnyOrderEqualsOnePass() throws Exception {
    Path out = Path.of("target", "paired-accumulator");
    Files.createDirectories(out);
    Path cnn = TestModels.fashionCnn();
    Path noisy = CnnVariants.noisy(cnn, out.resolve("cnn-noisy.onnx"), 0.5, 7);
    check(Tasks.parse("classification"), List.of(cnn, noisy));
  }

  private <P> void check(Task<P> task, List<Path> models) throws Exception {
    List<Scored<P>> scored = new ArrayList<>();
    List<InferenceSession> sessions = new ArrayList<>();
    try {
      for (Path m : models) {
        sessions.add(InferenceSession.open(m, SessionConfig.defaults().withThreads(1)));
      }
      String spec =
          "idx:" + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz") + "?input=image";
      long position = 0;
      try (BatchStream s = DataSpec.parse(spec).open(64)) {
        while (s.hasNext()) {
          Batch b = s.next();
          List<P> predictions = new ArrayList<>();
          for (InferenceSession session : sessions) {
            predictions.add(task.predict(b, session.run(b.inputs())));
          }
          scored.add(new Scored<>(b, predictions, position));
          position += b.size();
        }
      }
    } finally {
      sessions.forEach(InferenceSession::close);
    }
    List<Slicer> slicers = List.of(Slicer.parse("label"));
    PairedAccumulator<P> one = new PairedAccumulator<>(slicers, models.size());
    List<PairedAccumulator<P>> parts = new ArrayList<>();
    for (int p = 0; p < 3; p++) {
      parts.add(new PairedAccumulator<>(slicers, models.size()));
    }
    for (int i = 0; i < scored.size(); i++) {
      Scored<P> x = scored.get(i);
      one.add(task, "test", x.batch(), x.predictions(), x.position());
      // Uneven, interleaved parts: batch i goes to part (i * i) mod 3.
      parts.get(i * i % 3).add(task, "test", x.batch(), x.predictions(), x.position());
    }
    List<PairedAccumulator<P>> carried = new ArrayList<>();
    for (PairedAccumulator<P> p : parts) {
      carried.add(roundTrip(p));
    }
    PairedAccumulator<P> merged = carried.get(2);
    merged.merge(carried.get(0));
    merged.merge(carried.get(1));
    assertThat(merged.samples()).isEqualTo(2000);

    Bootstrap poisson = new Bootstrap(200, 0.95, 42, Bootstrap.Resampling.POISSON);
    EvaluationReport a = one.report(task, poisson, facts(models));
    EvaluationReport b = merged.report(task, poisson, facts(models));
    assertThat(results(b)).isEqualTo(results(a));
    MetricEstimate flips = b.models().get(1).all().metric("flip_rate").orElseThrow();
    assertThat(flips.value()).as("the noisy candidate flips predictions").isPositive();
    assertThat(flips.high()).isGreaterThan(flips.low());

    // The point estimates are those of the single-machine (multinomial) report.
    EvaluationReport local = one.report(task, Bootstrap.defaults(), facts(models));
    for (int m = 0; m < models.size(); m++) {
      List<EvaluationReport.SliceResult> want = local.models().get(m).slices();
      List<EvaluationReport.SliceResult> got = b.models().get(m).slices();
      assertThat(got).hasSameSizeAs(want);
      for (int s = 0; s < want.size(); s++) {
        assertThat(got.get(s).slice()).isEqualTo(want.get(s).slice());
        assertThat(JSON.writeValueAsString(got.get(s).classification()))
            .isEqualTo(JSON.writeValueAsString(want.get(s).classification()));
        for (MetricEstimate e : want.get(s).metrics()) {
          MetricEstimate g = got.get(s).metric(e.name()).orElseThrow();
          assertThat(g.value()).as(e.name()).isEqualTo(e.value());
          assertThat(g.baseline()).as(e.name()).isEqualTo(e.baseline());
          assertThat(g.delta()).as(e.name()).isEqualTo(e.delta());
        }
      }
    }
  }

  private static String results(EvaluationReport r) throws Exception {
    List<Object> out = new ArrayList<>();
    for (EvaluationReport.ModelReport m : r.models()) {
      out.add(List.of(m.slices(), String.valueOf(m.worstSlice()), m.verdict()));
    }
    return JSON.writeValueAsString(out);
  }

  private static PairedAccumulator.Facts facts(List<Path> models) {
    List<PairedAccumulator.Model> described = new ArrayList<>();
    for (int m = 0; m < models.size(); m++) {
      described.add(new PairedAccumulator.Model("m" + m, models.get(m).toString(), 1, 0));
    }
    return new PairedAccumulator.Facts(
        "classification",
        List.of(new EvaluationReport.DataInfo("test", "test", 2000)),
        new EvaluationReport.Settings(64, 200, 0.95, 42, "test", List.of("label"), 10),
        described,
        false,
        new EvaluationReport.Hygiene(2000, 2000, 0, 0, 0, List.of()),
        null,
        null,
        List.of());
  }

  @SuppressWarnings("unchecked")
  private static <P> PairedAccumulator<P> roundTrip(PairedAccumulator<P> p) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream o = new ObjectOutputStream(bytes)) {
      o.writeObject(p);
    }
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return (PairedAccumulator<P>) in.readObject();
    }
  }
}
