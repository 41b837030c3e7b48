package io.quantguard.quantize;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantguard.onnx.CpuFeatures;
import io.quantguard.onnx.ModelIO;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.TestModels;
import io.quantguard.runtime.data.DataSpec;
import org.junit.jupiter.api.Test;

/**
 * The warning that ONNX Runtime's uint8 × int8 kernels can saturate: given for full 8-bit int8
 * weights against uint8 activations on an x86 CPU without VNNI, and not for 7-bit weights, int8
 * activations, or a CPU with an int8 dot product.
 */
class SaturationNoteTest {
  private static final CpuFeatures AVX2 =
      CpuFeatures.parse("model name : Old\nflags : sse4_2 avx avx2 fma\n", 2);
  private static final CpuFeatures VNNI =
      CpuFeatures.parse("model name : New\nflags : sse4_2 avx avx2 avx512f avx512_vnni\n", 2);
  private static final CpuFeatures ARM = CpuFeatures.parse("Features : fp asimd\n", 2);

  private static QdqPlan plan(String recipe) {
    OnnxModel cnn = ModelIO.load(TestModels.fashionCnn());
    Recipe r = RecipeIO.parse(recipe + "calibration: {samples: 32}\n", "test");
    String data =
        "idx:" + TestModels.fashionMnistSample("train-images-idx3-ubyte.gz") + "?input=image";
    return Quantizer.staticPlan(
        Quantizer.calibrate(cnn, r, DataSpec.parse(data), Quantizer.Options.defaults()), r);
  }

  @Test
  void warnsOnlyWhereProductsCanSaturate() {
    assertThat(AVX2.u8s8Saturates()).isTrue();
    assertThat(VNNI.u8s8Saturates()).isFalse();
    assertThat(ARM.u8s8Saturates()).isFalse();

    assertThat(Quantizer.saturationNote(true, AVX2))
        .hasValueSatisfying(n -> assertThat(n).contains("Old", "VNNI", "reduce_range: true"));
    assertThat(Quantizer.saturationNote(true, VNNI)).isEmpty();
    assertThat(Quantizer.saturationNote(true, ARM)).isEmpty();
    assertThat(Quantizer.saturationNote(false, AVX2)).isEmpty();
  }

  @Test
  void findsTheSaturatingPairingInAPlan() {
    assertThat(
            Quantizer.fullRangeInt8AgainstUint8(
                plan("weights: {type: int8, symmetric: true, per_channel: true}\n")))
        .isTrue();
    assertThat(
            Quantizer.fullRangeInt8AgainstUint8(
                plan(
                    "weights: {type: int8, symmetric: true, per_channel: true, reduce_range:"
                        + " true}\n")))
        .isFalse();
    assertThat(
            Quantizer.fullRangeInt8AgainstUint8(
                plan(
                    "weights: {type: int8, symmetric: true, per_channel: true}\n"
                        + "activations: {type: int8, symmetric: true}\n")))
        .isFalse();
    assertThat(
            Quantizer.fullRangeInt8AgainstUint8(
                plan("weights: {type: int4, symmetric: true, per_channel: true}\n")))
        .isFalse();
  }

  /** Dynamic quantization always pairs uint8 activations with the weights' type. */
  @Test
  void dynamicInt8WeightsAreNotedOnThisCpuWhereTheySaturate() {
    OnnxModel cnn = ModelIO.load(TestModels.fashionCnn());
    boolean saturates = CpuFeatures.detect().u8s8Saturates();
    QuantizationResult full =
        Quantizer.quantize(
            cnn, RecipeIO.parse("mode: dynamic", "dynamic"), null, Quantizer.Options.defaults());
    QuantizationResult reduced =
        Quantizer.quantize(
            cnn,
            RecipeIO.parse("mode: dynamic\nweights: {reduce_range: true}", "reduced"),
            null,
            Quantizer.Options.defaults());
    assertThat(full.report().notes().stream().anyMatch(n -> n.contains("VNNI")))
        .isEqualTo(saturates);
    assertThat(reduced.report().notes()).noneMatch(n -> n.contains("VNNI"));
  }
}
