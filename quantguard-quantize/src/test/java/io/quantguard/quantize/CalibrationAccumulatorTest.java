package io.quantguard.quantize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataFingerprint;
import io.quantguard.runtime.data.DataSource;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The calibration seam: statistics accumulated on parts of the data and merged in any order are
 * byte for byte those of one pass, and quantize to the same model as {@link Quantizer#quantize}.
 */
class CalibrationAccumulatorTest {
  /** Static int8 from averaged per-batch extremes, smoothed and bias-corrected: channels too. */
  private static final Recipe RECIPE =
      RecipeIO.parse(
          """
          activations: {method: minmax-average}
          calibration: {samples: 2000, batch_size: 32}
          smooth: 0.5
          weights: {bias_correction: true}
          """,
          "r");

  private static final DataSource DATA = Accuracy.calibrationImages(2000);

  /** The plan's batches with the model's values, in order. */
  private static List<Map.Entry<Batch, Map<String, Tensor>>> run(CalibrationPlan plan) {
    List<Map.Entry<Batch, Map<String, Tensor>>> out = new ArrayList<>();
    try (InferenceSession s =
            InferenceSession.open(plan.model(), SessionConfig.defaults(), plan.outputs());
        BatchStream batches = DATA.open(plan.batchSize())) {
      while (batches.hasNext()) {
        Batch b = batches.next();
        Map<String, Tensor> feed = s.bind(b.inputs());
        Map<String, Tensor> values = new LinkedHashMap<>(feed);
        values.putAll(s.run(feed, plan.outputs()));
        out.add(Map.entry(b, values));
      }
    }
    return out;
  }

  private static byte[] bytes(CalibrationAccumulator a) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    a.writeTo(b);
    return b.toByteArray();
  }

  private static byte[] quantized(Calibration c) {
    return ModelIO.toBytes(Quantizer.quantize(c, RECIPE, Quantizer.Options.defaults()).model());
  }

  @Test
  void partsMergedInAnyOrderEqualOnePassAndTheLocalQuantizer() throws Exception {
    OnnxModel cnn = ModelIO.load(TestModels.fashionCnn());
    CalibrationPlan plan =
        Quantizer.planCalibration(cnn, RECIPE, DATA, Quantizer.Options.defaults());
    assertThat(plan.batchSize()).isEqualTo(32);
    List<Map.Entry<Batch, Map<String, Tensor>>> batches = run(plan);
    CalibrationAccumulator whole = plan.newAccumulator();
    batches.forEach(e -> whole.add(e.getKey(), e.getValue()));

    // One part per fingerprint block, each shipped as bytes, merged backwards.
    int perBlock = DataFingerprint.BLOCK / 32;
    List<CalibrationAccumulator> parts = new ArrayList<>();
    for (int i = 0; i < batches.size(); i += perBlock) {
      CalibrationAccumulator part = plan.newAccumulator();
      batches
          .subList(i, Math.min(batches.size(), i + perBlock))
          .forEach(e -> part.add(e.getKey(), e.getValue()));
      parts.add(CalibrationAccumulator.readFrom(new ByteArrayInputStream(bytes(part)))); // shipped
    }
    assertThat(parts).hasSize(8);
    Collections.reverse(parts);
    CalibrationAccumulator merged = plan.newAccumulator();
    parts.forEach(merged::merge);
    assertThat(bytes(merged)).isEqualTo(bytes(whole));
    assertThat(merged.samples()).isEqualTo(2000);

    Calibration local = Quantizer.calibrate(cnn, RECIPE, DATA, Quantizer.Options.defaults());
    Calibration distributed = plan.finish(merged);
    assertThat(distributed.fingerprint()).isEqualTo(local.fingerprint());
    assertThat(distributed.result().channels()).isNotEmpty();
    assertThat(quantized(distributed)).isEqualTo(quantized(local));

    // The plan travels by Java serialization (as a Spark closure does) and keeps its identity.
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ObjectOutputStream o = new ObjectOutputStream(out)) {
      o.writeObject(plan);
    }
    CalibrationPlan back;
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(out.toByteArray()))) {
      back = (CalibrationPlan) in.readObject();
    }
    assertThat(back.id()).isEqualTo(plan.id());
    assertThat(back.outputs()).isEqualTo(plan.outputs());
    assertThat(quantized(back.finish(merged))).isEqualTo(quantized(local));

    // A part that ends inside a fingerprint block cannot be merged.
    CalibrationAccumulator head = plan.newAccumulator();
    CalibrationAccumulator tail = plan.newAccumulator();
    for (int i = 0; i < batches.size(); i++) {
      (i < 4 ? head : tail).add(batches.get(i).getKey(), batches.get(i).getValue());
    }
    assertThatThrownBy(() -> head.merge(tail))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("multiples of " + DataFingerprint.BLOCK);
    // Batches must start where the plan's batches start.
    Batch misaligned = new Batch(batches.get(0).getKey().inputs(), null, List.of(), 7);
    assertThatThrownBy(() -> plan.newAccumulator().add(misaligned, batches.get(0).getValue()))
        .hasMessageContaining("start at a multiple of that");
  }

  @Test
  void exactSumsDoNotDependOnOrderAndRoundOnce() {
    Random rnd = new Random(17);
    List<Double> values = new ArrayList<>();
    for (int i = 0; i < 5000; i++) {
      values.add(rnd.nextGaussian() * Math.pow(10, rnd.nextInt(30) - 15));
    }
    BigDecimal exact = BigDecimal.ZERO;
    ExactSum forward = new ExactSum();
    for (double v : values) {
      forward.add(v);
      exact = exact.add(new BigDecimal(v));
    }
    Collections.shuffle(values, rnd);
    ExactSum left = new ExactSum();
    ExactSum right = new ExactSum();
    for (int i = 0; i < values.size(); i++) {
      (i % 3 == 0 ? left : right).add(values.get(i));
    }
    right.add(left);
    assertThat(right.value()).isEqualTo(forward.value()).isEqualTo(exact.doubleValue());
  }

  @Test
  void theGramSampleTakesTheFirstRowsOfTheWholeDataWhateverTheSplit() throws IOException {
    // 40 samples of 3 rows of 4 channels in batches of 5; the cap keeps 10 of the 30 sampled rows.
    Random rnd = new Random(3);
    ChannelStatistics.Layout layout =
        new ChannelStatistics.Layout(4, ChannelStatistics.Axis.LAST, true);
    ChannelStatistics whole = new ChannelStatistics("x", layout, 10);
    List<ChannelStatistics> parts = new ArrayList<>();
    for (int b = 0; b < 8; b++) {
      float[] x = new float[5 * 3 * 4];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) rnd.nextGaussian();
      }
      whole.add(x, new long[] {5, 3, 4}, b * 5L, 5);
      ChannelStatistics part = new ChannelStatistics("x", layout, 10);
      part.add(x, new long[] {5, 3, 4}, b * 5L, 5);
      parts.add(part);
    }
    Collections.shuffle(parts, rnd);
    ChannelStatistics merged = new ChannelStatistics("x", layout, 10);
    parts.forEach(merged::merge);
    assertThat(merged.gramRows()).isEqualTo(10);
    assertThat(merged.gram()).isEqualTo(whole.gram());
    ByteArrayOutputStream a = new ByteArrayOutputStream();
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    whole.writeTo(new java.io.DataOutputStream(a));
    merged.writeTo(new java.io.DataOutputStream(b));
    assertThat(b.toByteArray()).isEqualTo(a.toByteArray());
  }
}
