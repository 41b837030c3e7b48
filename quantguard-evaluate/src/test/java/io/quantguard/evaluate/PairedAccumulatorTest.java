package io.quantguard.evaluate;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantguard.evaluate.task.Embeddings;
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
  private static final Bootstrap MULTINOMIAL = new Bootstrap(200, 0.95, 42);

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
    Bootstrap poisson = new Bootstrap(200, 0.95, 42, Bootstrap.Resampling.POISSON);
    PairedAccumulator<P> one = new PairedAccumulator<>(slicers, models.size(), poisson);
    PairedAccumulator<P> local = new PairedAccumulator<>(slicers, models.size(), MULTINOMIAL);
    List<PairedAccumulator<P>> parts = new ArrayList<>();
    for (int p = 0; p < 3; p++) {
      parts.add(new PairedAccumulator<>(slicers, models.size(), poisson));
    }
    for (int i = 0; i < scored.size(); i++) {
      Scored<P> x = scored.get(i);
      one.add(task, "test", x.batch(), x.predictions(), x.position());
      local.add(task, "test", x.batch(), x.predictions(), x.position());
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

    EvaluationReport a = one.report(task, facts(models));
    EvaluationReport b = merged.report(task, facts(models));
    assertThat(results(b)).isEqualTo(results(a));
    MetricEstimate flips = b.models().get(1).all().metric("flip_rate").orElseThrow();
    assertThat(flips.value()).as("the noisy candidate flips predictions").isPositive();
    assertThat(flips.high()).isGreaterThan(flips.low());

    // The point estimates are those of the single-machine (multinomial) report.
    EvaluationReport multinomial = local.report(task, facts(models));
    for (int m = 0; m < models.size(); m++) {
      List<EvaluationReport.SliceResult> want = multinomial.models().get(m).slices();
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

    // Replicates summed as the rows arrive equal the replicates counted from kept rows.
    PairedMetrics<P> streamed = task.newMetrics(poisson);
    PairedMetrics<P> kept = task.newMetrics();
    for (Scored<P> x : scored) {
      int[] rows = java.util.stream.IntStream.range(0, x.batch().size()).toArray();
      Observation<P> o =
          new Observation<>(
              "test", x.batch(), x.predictions().get(0), x.predictions().get(1), rows);
      streamed.add(o);
      kept.add(o);
    }
    assertThat(JSON.writeValueAsString(streamed.result(poisson)))
        .isEqualTo(JSON.writeValueAsString(kept.result(poisson)));
  }

  /**
   * Under Poisson resampling the state is the same size for 1,000 rows as for 20,000 (the 2,000
   * images ten times over, as rows 0 to 19,999); the multinomial state, which keeps its rows,
   * grows.
   */
  @Test
  void stateDoesNotGrowWithRows() throws Exception {
    Task<?> task = Tasks.parse("classification");
    Path cnn = TestModels.fashionCnn();
    Path noisy =
        CnnVariants.noisy(
            cnn, Path.of("target", "paired-accumulator", "cnn-noisy-size.onnx"), 0.5, 7);
    Bootstrap poisson = new Bootstrap(200, 0.95, 42, Bootstrap.Resampling.POISSON);
    assertThat(serializedSize(task, List.of(cnn, noisy), poisson, 20_000))
        .isEqualTo(serializedSize(task, List.of(cnn, noisy), poisson, 1_000));
    assertThat(serializedSize(task, List.of(cnn, noisy), MULTINOMIAL, 20_000))
        .isGreaterThan(5 * serializedSize(task, List.of(cnn, noisy), MULTINOMIAL, 1_000));
  }

  /**
   * Embeddings under Poisson resampling: the state of 100,000 rows is the size of that of 20,000
   * (the same 1,000 synthetic rows repeated: each replicate's cosine histogram spans the same bins
   * once every row has been drawn); the multinomial one, which keeps its rows, grows with them.
   */
  @Test
  void embeddingStateDoesNotGrowWithRows() throws Exception {
    Bootstrap poisson = new Bootstrap(200, 0.95, 42, Bootstrap.Resampling.POISSON);
    assertThat(embeddingStateSize(poisson, 100_000)).isEqualTo(embeddingStateSize(poisson, 20_000));
    assertThat(embeddingStateSize(MULTINOMIAL, 100_000))
        .isGreaterThan(3 * embeddingStateSize(MULTINOMIAL, 20_000));
  }

  /** 1,000 rows of 8-dimensional embeddings at cosines from 0.9 to 0.99999 to their baseline. */
  @SuppressWarnings("unchecked")
  private static int embeddingStateSize(Bootstrap bootstrap, int rows) throws Exception {
    Task<Embeddings> task = (Task<Embeddings>) (Task<?>) Tasks.parse("embedding");
    int n = 1000;
    int dim = 8;
    java.util.Random random = new java.util.Random(5);
    float[] base = new float[n * dim];
    float[] cand = new float[n * dim];
    for (int i = 0; i < base.length; i++) {
      base[i] = (float) random.nextGaussian();
      double scale = Math.pow(10, -2.5 + 2 * ((i / dim) % 97) / 96.0);
      cand[i] = base[i] + (float) (scale * random.nextGaussian());
    }
    List<Embeddings> predictions =
        List.of(new Embeddings(base, n, dim), new Embeddings(cand, n, dim));
    PairedAccumulator<Embeddings> acc = new PairedAccumulator<>(List.of(), 2, bootstrap);
    for (long position = 0; position < rows; position += n) {
      Batch b =
          new Batch(
              java.util.Map.of("x", io.quantguard.runtime.Tensor.ofFloats(new float[n], n, 1)),
              null,
              List.of(),
              position);
      acc.add(task, "test", b, predictions, position);
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream o = new ObjectOutputStream(bytes)) {
      o.writeObject(acc);
    }
    return bytes.size();
  }

  private static <P> int serializedSize(
      Task<P> task, List<Path> models, Bootstrap bootstrap, int rows) throws Exception {
    PairedAccumulator<P> acc =
        new PairedAccumulator<>(List.of(Slicer.parse("label")), models.size(), bootstrap);
    List<InferenceSession> sessions = new ArrayList<>();
    try {
      for (Path m : models) {
        sessions.add(InferenceSession.open(m, SessionConfig.defaults().withThreads(1)));
      }
      String spec =
          "idx:" + TestModels.fashionMnistSample("t10k-images-idx3-ubyte.gz") + "?input=image";
      List<Batch> batches = new ArrayList<>();
      List<List<P>> predictions = new ArrayList<>();
      try (BatchStream s = DataSpec.parse(spec).open(100)) {
        while (s.hasNext()) {
          Batch b = s.next();
          List<P> p = new ArrayList<>();
          for (InferenceSession session : sessions) {
            p.add(task.predict(b, session.run(b.inputs())));
          }
          batches.add(b);
          predictions.add(p);
        }
      }
      long position = 0;
      for (int i = 0; position < rows; i = (i + 1) % batches.size()) {
        Batch b = batches.get(i);
        acc.add(
            task,
            "test",
            new Batch(b.inputs(), b.labels(), b.attributes(), position),
            predictions.get(i),
            position);
        position += b.size();
      }
    } finally {
      sessions.forEach(InferenceSession::close);
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream o = new ObjectOutputStream(bytes)) {
      o.writeObject(acc);
    }
    return bytes.size();
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
