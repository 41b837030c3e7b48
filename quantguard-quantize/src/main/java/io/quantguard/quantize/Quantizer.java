package io.quantguard.quantize;

import io.quantguard.onnx.CpuFeatures;
import io.quantguard.onnx.DataType;
import io.quantguard.onnx.InvalidInputException;
import io.quantguard.onnx.InvalidModelException;
import io.quantguard.onnx.OnnxModel;
import io.quantguard.onnx.QuantGuard;
import io.quantguard.onnx.QuantizationProvenance;
import io.quantguard.onnx.RunEnvironment;
import io.quantguard.onnx.TensorCodec;
import io.quantguard.onnx.TensorType;
import io.quantguard.onnx.proto.Onnx.ValueInfoProto;
import io.quantguard.runtime.InferenceSession;
import io.quantguard.runtime.Progress;
import io.quantguard.runtime.SessionConfig;
import io.quantguard.runtime.ShapeProbe;
import io.quantguard.runtime.Tensor;
import io.quantguard.runtime.data.Batch;
import io.quantguard.runtime.data.BatchStream;
import io.quantguard.runtime.data.DataFingerprint;
import io.quantguard.runtime.data.DataSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Quantizes a model as its recipe says, node by node: static int8 QDQ with calibration, dynamic
 * int8, weight-only int4 blocks and float16 can be mixed in one model (each node has one mode).
 * Learns tensor types, plans, calibrates the static part in one streaming pass, rewrites the graph,
 * and records how it was made ({@link QuantizationProvenance}: recipe and hash, calibration
 * fingerprint, tool version, session settings and environment) in {@code metadata_props}; the same
 * model, recipe and data give the same bytes in the same environment.
 */
public final class Quantizer {
  /** How to run: ONNX Runtime options for calibration and a progress sink. */
  public record Options(SessionConfig session, Progress progress) {
    public static Options defaults() {
      return new Options(SessionConfig.defaults(), Progress.NONE);
    }
  }

  /** The oldest default opset the passes work on; older models are upgraded to it first. */
  private static final long MIN_OPSET = 10;

  /** Activation rows folded into each GPTQ Hessian: 2,048 tokens settle it on a 384-wide layer. */
  private static final int GRAM_ROWS = 2048;

  private Quantizer() {}

  /**
   * Calibrates and quantizes in one go.
   *
   * @param calibration representative data; required when any node is quantized statically,
   *     optional otherwise (then a synthetic sample is used to learn tensor types)
   */
  public static QuantizationResult quantize(
      OnnxModel fp32, Recipe recipe, @Nullable DataSource calibration, Options options) {
    return quantize(calibrate(fp32, recipe, calibration, options), recipe, options);
  }

  /**
   * Runs the model once over the calibration data and keeps what every tensor the recipe could
   * quantize looked like. The result serves any recipe whose tensors it covers (another calibration
   * method, fewer quantized nodes, other weight settings) without running the model again: what
   * sensitivity analysis and tuning need.
   *
   * @param calibration may be null when no node is quantized statically
   */
  public static Calibration calibrate(
      OnnxModel fp32, Recipe recipe, @Nullable DataSource calibration, Options options) {
    return calibrate(planCalibration(fp32, recipe, calibration, options), calibration, options);
  }

  /**
   * Runs a calibration plan over the data on this machine (or, without data, keeps only the types
   * the plan learned).
   */
  public static Calibration calibrate(
      CalibrationPlan plan, @Nullable DataSource calibration, Options options) {
    if (calibration == null) {
      return plan.withoutData();
    }
    return ActivationCalibration.run(plan, calibration, options.session(), options.progress());
  }

  /**
   * What calibrating {@code fp32} for {@code recipe} must observe, without reading the data: the
   * first step of a calibration that runs elsewhere (on the partitions of a distributed data set,
   * say) and comes back as a {@link CalibrationAccumulator} for {@link CalibrationPlan#finish}.
   *
   * @param calibration the calibration data, of which only the first batch is read (to learn tensor
   *     types); null when no node is quantized statically
   */
  public static CalibrationPlan planCalibration(
      OnnxModel fp32, Recipe recipe, @Nullable DataSource calibration, Options options) {
    ResolvedRecipe r = ResolvedRecipe.of(recipe);
    OnnxModel work = fp32.copy();
    GraphCleanup.constantsToInitializers(work.graph());
    long opset = work.opset(OnnxModel.DEFAULT_DOMAIN);
    if (opset < MIN_OPSET) {
      // ONNX Runtime no longer runs the first versions of several operators, and the quantized
      // operators need opset 10: upgrade before the model first runs.
      OpsetUpgrade.upgrade(work, MIN_OPSET);
    }
    work = RuntimeFusion.apply(work, r.form(), options.session());
    int batchSize = r.batchSize();
    Map<String, TensorType> types;
    if (calibration != null) {
      types = ShapeProbe.learn(work, firstBatch(calibration, batchSize), options.session());
    } else {
      Map<String, Tensor> sample = SyntheticSample.of(work);
      try {
        types = ShapeProbe.learn(work, sample, options.session());
      } catch (InvalidModelException e) {
        throw e;
      } catch (InvalidInputException e) {
        throw new InvalidInputException(
            work.source(),
            "does not run on made-up inputs shaped as declared (float zeros, integer ones) "
                + sample.entrySet().stream().map(x -> x.getKey() + "=" + x.getValue()).toList()
                + ", which QuantGuard runs once to learn tensor types: "
                + e.getMessage(),
            "give calibration data (a few real inputs are enough)",
            e);
      }
    }
    Set<String> declared = new HashSet<>(work.graph().valueInfo().keySet());
    ShapeProbe.annotate(work, types);
    RecipeResolver resolver = new RecipeResolver(r, work.graph());
    OnnxModel planning = work.copy();
    WeightTables tables = new WeightTables(planning);
    QdqPlan statics = QdqPlan.of(planning.graph(), resolver, SmoothQuant.Result.NONE);
    Set<String> tensors = statics.observed();
    WeightOnlyPass weightOnly = new WeightOnlyPass(planning, resolver, tables);
    Map<String, ChannelStatistics.Layout> channelInputs = new LinkedHashMap<>();
    if (calibration != null) {
      boolean gram = weightOnly.needsGram();
      weightOnly
          .channelInputs()
          .forEach(
              (t, c) ->
                  channelInputs.put(
                      t, new ChannelStatistics.Layout(c, ChannelStatistics.Axis.LAST, gram)));
      statics
          .channelInputs(r.keepsChannels())
          .forEach((t, l) -> channelInputs.merge(t, l, ChannelStatistics.Layout::with));
      new DynamicPass(planning, resolver, tables)
          .channelInputs(r.keepsChannels())
          .forEach(
              (t, c) ->
                  channelInputs.merge(
                      t,
                      new ChannelStatistics.Layout(c, ChannelStatistics.Axis.LAST, false),
                      ChannelStatistics.Layout::with));
    }
    return new CalibrationPlan(
        work,
        CalibrationPlan.digest(fp32),
        opset,
        declared,
        types,
        tensors,
        channelInputs,
        weightOnly.needsGram() ? GRAM_ROWS : 0,
        batchSize,
        r.samples());
  }

  /**
   * What {@code recipe} will quantize in {@code fp32} and what it cannot, and why, before any
   * calibration: the model runs once, on the first batch of {@code sample} or on made-up inputs, to
   * learn its tensor types; the passes then plan on a copy.
   *
   * @param sample representative inputs; null runs the model on made-up inputs
   */
  public static QuantizationPlan plan(
      OnnxModel fp32, Recipe recipe, @Nullable DataSource sample, Options options) {
    QuantizationPlan plan = plan(planCalibration(fp32, recipe, sample, options), recipe);
    if (sample == null && plan.quantized().stream().anyMatch(s -> s.mode() == Recipe.Mode.STATIC)) {
      List<String> notes = new ArrayList<>(plan.notes());
      notes.add("static nodes need calibration data before they can be quantized");
      return new QuantizationPlan(plan.quantized(), plan.keptInFloat(), notes);
    }
    return plan;
  }

  /**
   * The plan of {@code recipe} on the model a calibration plan normalized and typed: what a command
   * that calibrates anyway shows first, without running the model again.
   */
  public static QuantizationPlan plan(CalibrationPlan types, Recipe recipe) {
    ResolvedRecipe r = ResolvedRecipe.of(recipe);
    OnnxModel work = types.model().copy();
    RecipeResolver resolver = new RecipeResolver(r, work.graph());
    WeightTables tables = new WeightTables(work);
    QdqPlan statics = QdqPlan.of(work.graph(), resolver, SmoothQuant.Result.NONE);
    DynamicPass dynamic = new DynamicPass(work, resolver, tables);
    dynamic.run();
    WeightOnlyPass weightOnly = new WeightOnlyPass(work, resolver, tables);
    weightOnly.run(Map.of());
    Fp16Pass fp16 = new Fp16Pass(work, resolver, types.types());
    fp16.run();
    List<QuantizationPlan.Step> steps = new ArrayList<>(statics.steps());
    steps.addAll(dynamic.steps());
    steps.addAll(weightOnly.steps());
    steps.addAll(fp16.steps());
    List<QuantizationReport.Skipped> kept = new ArrayList<>(List.of(statics.skipped()));
    kept.addAll(dynamic.skipped());
    kept.addAll(weightOnly.skipped());
    kept.addAll(fp16.kept());
    List<String> notes = new ArrayList<>(statics.notes());
    if (steps.isEmpty()) {
      notes.add(
          "no operator this recipe quantizes (mode "
              + r.mode()
              + ", op_types "
              + r.opTypes()
              + ")");
    }
    return new QuantizationPlan(steps, kept, notes);
  }

  /**
   * The nodes a recipe quantizes statically (the operators themselves, not the data-movement nodes
   * that follow them), in graph order: the units sensitivity analysis and tuning reason about.
   */
  public static List<String> staticNodes(Calibration calibration, Recipe recipe) {
    OnnxModel work = calibration.normalized().copy();
    RecipeResolver resolver = new RecipeResolver(ResolvedRecipe.of(recipe), work.graph());
    QdqPlan statics = QdqPlan.of(work.graph(), resolver, SmoothQuant.Result.NONE);
    return statics.plannedNodes();
  }

  /**
   * The nodes a recipe quantizes statically, grouped into the units tuning may move to another
   * precision without leaving an inconsistent model (a Concat goes with the producers of its
   * inputs, which share its scale), in graph order.
   */
  public static List<List<String>> staticGroups(Calibration calibration, Recipe recipe) {
    OnnxModel work = calibration.normalized().copy();
    RecipeResolver resolver = new RecipeResolver(ResolvedRecipe.of(recipe), work.graph());
    QdqPlan statics = QdqPlan.of(work.graph(), resolver, SmoothQuant.Result.NONE);
    return statics.plannedGroups();
  }

  /**
   * Where the static part of {@code recipe} puts its quantizers on the model {@code calibration}
   * normalized and typed: what quantization-aware training places its fake quantizers from, so that
   * the model it trains and the one {@link #quantize(Calibration, Recipe, ActivationRanges,
   * Options)} exports agree.
   */
  public static QdqPlan staticPlan(Calibration calibration, Recipe recipe) {
    OnnxModel work = calibration.normalized().copy();
    RecipeResolver resolver = new RecipeResolver(ResolvedRecipe.of(recipe), work.graph());
    ActivationCalibration.Result cal = calibration.result();
    SmoothQuant.Result smoothing =
        SmoothQuant.apply(work, resolver, cal != null ? cal.channels() : Map.of());
    return QdqPlan.of(work.graph(), resolver, smoothing);
  }

  /**
   * The FP32 model with SmoothQuant's rewrite applied as {@code recipe} asks (a Mul by 1/s in front
   * of each smoothed MatMul/Gemm, its weight rows scaled by s): the same function with the outlier
   * channels moved into the weights, for a quantization-aware training that must train the weights
   * the export quantizes. Comes with the recipe that quantizes it as {@code recipe} would quantize
   * the original: without {@code smooth}, and each smoothed input calibrated by min/max, the range
   * the rewrite gives it.
   *
   * @param calibration statistics with the per-channel ranges of the smoothed inputs (a calibration
   *     for {@code recipe})
   */
  public static Smoothed smoothed(Calibration calibration, Recipe recipe) {
    ActivationCalibration.Result cal = calibration.result();
    if (cal == null) {
      throw InvalidInputException.forParameter(
          "calibration",
          null,
          "is required: SmoothQuant's factors come from the per-channel ranges of the data",
          "give representative data, or leave smooth out of the recipe");
    }
    OnnxModel work = calibration.normalized().copy();
    RecipeResolver resolver = new RecipeResolver(ResolvedRecipe.of(recipe), work.graph());
    SmoothQuant.Result smoothing = SmoothQuant.apply(work, resolver, cal.channels());
    List<Recipe.Override> overrides = new ArrayList<>();
    List<Recipe.Override> given = recipe.overrides();
    for (Recipe.Override o : given != null ? given : List.<Recipe.Override>of()) {
      Recipe.Override kept = o.toBuilder().smooth(null).build();
      boolean empty =
          kept.mode() == null
              && kept.precision() == null
              && kept.activations() == null
              && kept.weights() == null;
      if (!empty) {
        overrides.add(kept);
      } else if (o.opType() == null) {
        // A node or node_regex override that only smoothed still quantized its nodes
        // (RecipeResolver): say so in the words left.
        overrides.add(kept.toBuilder().precision(Recipe.Precision.QUANTIZED).build());
      }
    }
    Recipe.Activations minMax = Recipe.Activations.builder().method("minmax").build();
    for (String t : smoothing.tensors().keySet()) {
      overrides.add(
          Recipe.Override.tensor(t)
              .activations(minMax)
              .because(
                  "SmoothQuant's rewrite: ranges by min/max, as the smoothed quantizer takes"));
    }
    Recipe plain = recipe.toBuilder().smooth(null).overrides(overrides).build();
    return new Smoothed(work, plain, smoothing.notes());
  }

  /**
   * A model with SmoothQuant's rewrite applied, still FP32, and the recipe that quantizes it.
   *
   * @param notes what the rewrite smoothed and skipped
   */
  public record Smoothed(OnnxModel model, Recipe recipe, List<String> notes) {}

  /** Quantizes with earlier calibration statistics; the recipe's tensors must be among them. */
  public static QuantizationResult quantize(
      Calibration calibration, Recipe recipe, Options options) {
    return quantizeWith(calibration, recipe, null, options);
  }

  /**
   * Quantizes with activation scales from {@code ranges} (those a quantization-aware training
   * froze, say) instead of calibration statistics; {@code calibration} then needs no data, only the
   * model it normalized and typed.
   */
  public static QuantizationResult quantize(
      Calibration calibration, Recipe recipe, ActivationRanges ranges, Options options) {
    return quantizeWith(calibration, recipe, ranges, options);
  }

  private static QuantizationResult quantizeWith(
      Calibration calibration, Recipe recipe, @Nullable ActivationRanges given, Options options) {
    ResolvedRecipe r = ResolvedRecipe.of(recipe);
    OnnxModel work = calibration.normalized().copy();
    Map<String, TensorType> types = calibration.types();
    Set<String> declared = calibration.declared();
    RecipeResolver resolver = new RecipeResolver(r, work.graph());
    WeightTables tables = new WeightTables(work);
    ActivationCalibration.Result cal = calibration.result();
    Map<String, ChannelStatistics> channels = cal != null ? cal.channels() : Map.of();
    SmoothQuant.Result smoothing = SmoothQuant.apply(work, resolver, channels);
    QdqPlan statics = QdqPlan.of(work.graph(), resolver, smoothing);
    boolean anyStatic = !statics.quantizedByOp().isEmpty();
    if (anyStatic && cal == null && given == null) {
      throw InvalidInputException.forParameter(
          "calibration",
          null,
          "is required: the recipe quantizes " + statics.quantizedByOp().keySet() + " statically",
          "give representative data, or use mode dynamic, weight-only or fp16");
    }
    if (anyStatic && given == null && cal != null) {
      for (String t : statics.observed()) {
        if (!cal.statistics().containsKey(t) && !smoothing.tensors().containsKey(t)) {
          throw new IllegalArgumentException(
              "the calibration did not observe tensor '"
                  + t
                  + "'; calibrate with a recipe that quantizes its consumer");
        }
      }
    }
    if (anyStatic) {
      for (Map.Entry<String, ChannelStatistics.Layout> e :
          statics.channelInputs(false).entrySet()) {
        ChannelStatistics cs = channels.get(e.getKey());
        if (cs == null
            || cs.channels() != e.getValue().channels()
            || cs.axis() != e.getValue().axis()) {
          throw new InvalidInputException(
              "recipe",
              "bias-corrects or smooths the consumers of '"
                  + e.getKey()
                  + "', and the calibration did not collect that tensor's per-channel statistics",
              "calibrate with this recipe, or keep the statistics with `calibration: {channels: true}`");
        }
      }
    }
    WeightOnlyPass weightOnly = new WeightOnlyPass(work, resolver, tables);
    long opsetBefore = calibration.originalOpset();
    boolean dynamicMode = usesMode(resolver, work, Recipe.Mode.DYNAMIC);
    boolean usesMicrosoft = dynamicMode || usesMode(resolver, work, Recipe.Mode.WEIGHT_ONLY);
    long target =
        Math.max(work.opset(OnnxModel.DEFAULT_DOMAIN), anyStatic ? statics.requiredOpset() : 0);
    if (dynamicMode) {
      target = Math.max(target, 11); // DynamicQuantizeLinear
    }
    if (weightOnly.needsOpset21()) {
      target = Math.max(target, 21);
    }
    OpsetUpgrade.upgrade(work, target);
    if (usesMicrosoft && work.opset(OnnxModel.MICROSOFT_DOMAIN) == 0) {
      work.setOpset(OnnxModel.MICROSOFT_DOMAIN, 1);
    }

    long weightsBefore = weightBytes(work);
    QdqRewriter rewriter = new QdqRewriter(work, statics, tables);
    if (anyStatic) {
      ActivationRanges ranges =
          given != null
              ? given
              : new CalibratedRanges(cal != null ? cal.statistics() : Map.of(), smoothing);
      rewriter.rewrite(ranges, channels);
    }
    DynamicPass dynamic = new DynamicPass(work, resolver, tables, channels);
    dynamic.run();
    weightOnly.run(cal != null ? cal.channels() : Map.of());
    Fp16Pass fp16 = new Fp16Pass(work, resolver, types);
    fp16.run();
    work.graph().removeUnusedInitializers();
    work.graph().sortTopologically();
    boolean int4 =
        work.graph().initializers().values().stream()
            .anyMatch(
                t ->
                    t.getDataType() == DataType.INT4.code()
                        || t.getDataType() == DataType.UINT4.code());
    if (int4 && work.irVersion() < 10) {
      work.setIrVersion(10); // 4-bit tensor types arrived in IR version 10
    }
    for (String name : new ArrayList<>(work.graph().valueInfo().keySet())) {
      if (!declared.contains(name)) {
        work.graph().removeValueInfo(name);
      }
    }

    Map<String, Integer> byOp = new TreeMap<>(statics.quantizedByOp());
    dynamic.quantizedByOp().forEach((k, v) -> byOp.merge(k, v, Integer::sum));
    weightOnly.quantizedByOp().forEach((k, v) -> byOp.merge(k, v, Integer::sum));
    if (fp16.converted() > 0) {
      byOp.put("float16 nodes", fp16.converted());
    }
    List<QuantizationReport.Skipped> skipped = new ArrayList<>(List.of(statics.skipped()));
    skipped.addAll(dynamic.skipped());
    skipped.addAll(weightOnly.skipped());
    skipped.addAll(fp16.kept());
    if (byOp.isEmpty()) {
      throw new InvalidInputException(
          work.source(),
          "has no operator the recipe quantizes (mode "
              + r.mode()
              + ", op_types "
              + r.opTypes()
              + ")",
          skipped.isEmpty()
              ? "check the model's operator types and add them to the recipe's op_types"
              : "its "
                  + skipped.size()
                  + " candidate node(s) stay in float ("
                  + skipped.get(0).opType()
                  + ": "
                  + skipped.get(0).reason()
                  + "); choose another mode");
    }
    List<String> notes = new ArrayList<>(statics.notes());
    saturationNote(
            fullRangeInt8AgainstUint8(statics) || dynamic.pairsUint8WithFullRangeInt8(),
            CpuFeatures.detect())
        .ifPresent(notes::add);
    notes.addAll(rewriter.notes());
    notes.addAll(smoothing.notes());
    notes.addAll(dynamic.notes());
    RuntimeFusion.Optimizer optimizer = RuntimeFusion.of(r.form());
    if (optimizer != null) {
      notes.add(RuntimeFusion.statement(optimizer));
    }
    if (target > opsetBefore) {
      notes.add("upgraded the default opset from " + opsetBefore + " to " + target);
    }
    String fingerprint = cal != null ? cal.fingerprint() : "";
    long samples = cal != null ? cal.samples() : 0;
    provenance(r, cal, options.session()).write(work);
    checkRuns(work, options.session());
    QuantizationReport report =
        new QuantizationReport(
            r.mode().spelling(),
            RecipeIO.sha256(r.form()),
            fingerprint,
            samples,
            cal != null ? cal.nanos() / 1e9 : 0,
            byOp,
            statics.quantizedActivations(),
            rewriter.quantizedWeights()
                + dynamic.quantizedWeights()
                + weightOnly.quantizedWeights(),
            weightsBefore,
            weightBytes(work),
            skipped,
            notes,
            opsetBefore,
            target);
    return new QuantizationResult(work, r.form(), report);
  }

  /** How this run made the model, as the model records it. */
  private static QuantizationProvenance provenance(
      ResolvedRecipe r, ActivationCalibration.@Nullable Result cal, SessionConfig session) {
    return new QuantizationProvenance(
        QuantGuard.VERSION,
        RecipeIO.toJson(r.form()),
        RecipeIO.sha256(r.form()),
        r.mode().spelling(),
        cal != null ? cal.fingerprint() : null,
        cal != null ? DataFingerprint.SCHEME : null,
        cal != null ? cal.samples() : null,
        new QuantizationProvenance.Session(
            session.optimization().name(),
            session.intraOpThreads(),
            session.interOpThreads(),
            session.provider().name()),
        RunEnvironment.current(InferenceSession.runtimeVersion()),
        null);
  }

  private static boolean usesMode(RecipeResolver resolver, OnnxModel m, Recipe.Mode mode) {
    return m.graph().nodes().stream()
        .anyMatch(
            n -> {
              RecipeResolver.NodeSettings s = resolver.forNode(n);
              return s.quantize() && s.mode() == mode;
            });
  }

  private static Map<String, Tensor> firstBatch(DataSource calibration, int batchSize) {
    try (BatchStream s = calibration.open(batchSize)) {
      if (!s.hasNext()) {
        throw new InvalidInputException(
            calibration.name(), "holds no samples", "give representative calibration data");
      }
      Batch b = s.next();
      return b.inputs();
    }
  }

  private static long weightBytes(OnnxModel m) {
    return m.graph().initializers().values().stream().mapToLong(TensorCodec::storageBytes).sum();
  }

  /** The rewritten model must load in ONNX Runtime; anything else is a QuantGuard bug. */
  private static void checkRuns(OnnxModel m, SessionConfig config) {
    try (InferenceSession s = InferenceSession.open(m, config)) {
      s.inputs();
    } catch (InvalidInputException e) {
      throw new IllegalStateException(
          "the quantized model does not load in ONNX Runtime: " + e.getMessage(), e);
    }
  }

  /** A sample that satisfies the model's inputs, for learning types when no data is given. */
  static final class SyntheticSample {
    private SyntheticSample() {}

    private static long[] filled(long[] a) {
      java.util.Arrays.fill(a, 1L);
      return a;
    }

    private static int[] filledInts(int[] a) {
      java.util.Arrays.fill(a, 1);
      return a;
    }

    private static byte[] filledBytes(byte[] a) {
      java.util.Arrays.fill(a, (byte) 1);
      return a;
    }

    static Map<String, Tensor> of(OnnxModel m) {
      Map<String, Tensor> out = new LinkedHashMap<>();
      for (ValueInfoProto v : m.graph().runtimeInputs()) {
        TensorType t =
            TensorType.from(v)
                .orElseThrow(
                    () ->
                        new InvalidInputException(
                            m.source(),
                            "input '" + v.getName() + "' is not a tensor",
                            "QuantGuard feeds tensor inputs"));
        long[] shape = t.shape();
        if (shape == null) {
          throw new InvalidInputException(
              m.source(),
              "input '" + v.getName() + "' has no declared shape",
              "give calibration data so QuantGuard can run the model");
        }
        for (int i = 0; i < shape.length; i++) {
          shape[i] = shape[i] < 0 ? (i == 0 ? 1 : 8) : shape[i];
        }
        int n = Math.toIntExact(TensorCodec.elementCount(shape));
        Tensor x =
            switch (t.elementType()) {
              case FLOAT, DOUBLE, FLOAT16 -> Tensor.ofFloats(new float[n], shape);
              // Integers are ones, not zeros: an integer division by zero kills the process
              // inside ONNX Runtime (SIGFPE), and index 0 or 1 fits most gathers.
              case INT64 -> Tensor.ofLongs(filled(new long[n]), shape);
              case INT32 -> Tensor.ofInts(filledInts(new int[n]), shape);
              case INT8, UINT8 -> Tensor.ofBytes(t.elementType(), filledBytes(new byte[n]), shape);
              case BOOL -> Tensor.ofBytes(t.elementType(), new byte[n], shape);
              default ->
                  throw new InvalidInputException(
                      m.source(),
                      "input '"
                          + v.getName()
                          + "' is of type "
                          + t.elementType().displayName()
                          + ", which QuantGuard cannot feed, so the model cannot be run to learn"
                          + " its tensor types (input type "
                          + t.elementType().displayName()
                          + " cannot be calibrated)",
                      "quantize a model whose inputs are numeric tensors");
            };
        out.put(v.getName(), x);
      }
      return out;
    }
  }

  /** Whether a static plan pairs uint8 activations with full 8-bit int8 weights. */
  static boolean fullRangeInt8AgainstUint8(QdqPlan plan) {
    return plan.weights().stream().anyMatch(w -> w.scheme().fullRangeInt8())
        && plan.groups().stream().anyMatch(g -> g.scheme().type() == DataType.UINT8);
  }

  /**
   * A warning where the model pairs uint8 activations with full 8-bit int8 weights and this CPU's
   * kernels add such products in 16 bits ({@link CpuFeatures#u8s8Saturates}): the model is right,
   * but ONNX Runtime here computes it less exactly than the calibration assumed.
   */
  static Optional<String> saturationNote(boolean pairs, CpuFeatures cpu) {
    if (!pairs || !cpu.u8s8Saturates()) {
      return Optional.empty();
    }
    return Optional.of(
        "this CPU ("
            + cpu.model()
            + ") has no int8 dot-product instruction (VNNI): ONNX Runtime's uint8 x int8 kernels"
            + " add pairs of products in 16 bits and can saturate with full-range 8-bit weights,"
            + " costing accuracy here that a VNNI CPU would not lose; 7-bit weights (weights:"
            + " {reduce_range: true}) or int8 activations avoid it");
  }
}
