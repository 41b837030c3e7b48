package io.quantguard.onnx;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * The CPU a benchmark or a quantization ran on and the instruction sets that decide how much int8
 * can gain, and whether its integer kernels are exact ({@link #u8s8Saturates}). ONNX Runtime's int8
 * kernels are fast where the CPU has an int8 dot-product instruction (x86: AVX-512 VNNI, AVX-VNNI,
 * AMX-INT8; Arm: SDOT/UDOT, I8MM); without one an int8 model is often barely faster than FP32, and
 * a benchmark result is meaningless without saying which case it was.
 *
 * @param model the CPU's model name
 * @param logicalCores processors available to this JVM
 * @param flags the relevant instruction-set flags present, in a fixed order
 * @param int8DotProduct the best int8 dot-product instruction set present, or "none"
 */
public record CpuFeatures(
    String model, int logicalCores, List<String> flags, String int8DotProduct) {

  /** Flags worth reporting, in the order they are shown (Linux /proc/cpuinfo spelling). */
  private static final List<String> RELEVANT =
      List.of(
          "sse4_2",
          "avx",
          "avx2",
          "fma",
          "f16c",
          "avx512f",
          "avx512bw",
          "avx512vl",
          "avx512_vnni",
          "avx512_bf16",
          "avx512_fp16",
          "avx_vnni",
          "avx_vnni_int8",
          "amx_tile",
          "amx_int8",
          "amx_bf16",
          "amx_fp16",
          "asimd",
          "asimddp",
          "i8mm",
          "sve",
          "sve2",
          "bf16");

  /**
   * This machine's CPU, read from {@code /proc/cpuinfo} once per process (quantization asks at
   * every call, a tuning run many times); elsewhere the flags are unknown (an empty list).
   */
  public static CpuFeatures detect() {
    return Detected.CPU;
  }

  /**
   * This machine's CPU model name as {@code /proc/cpuinfo} gives it, from the same one reading as
   * {@link #detect}; null where it gives none (other OSes, many Arm kernels), where {@link #model}
   * shows the architecture instead, which a record of where something ran must not pass off as a
   * model name.
   */
  public static @Nullable String detectModelName() {
    return Detected.MODEL_NAME;
  }

  /** Holds the one reading, made when first asked for. */
  private static final class Detected {
    static final CpuFeatures CPU;
    static final @Nullable String MODEL_NAME;

    static {
      int cores = Runtime.getRuntime().availableProcessors();
      String info = readCpuinfo();
      CPU =
          info == null
              ? new CpuFeatures(System.getProperty("os.arch"), cores, List.of(), "unknown")
              : parse(info, cores);
      MODEL_NAME = info == null ? null : modelName(info);
    }
  }

  private static @Nullable String readCpuinfo() {
    Path info = Path.of("/proc/cpuinfo");
    try {
      if (Files.isReadable(info)) {
        return Files.readString(info);
      }
    } catch (IOException e) {
      // fall through: the report says the flags are unknown rather than failing the benchmark
    }
    return null;
  }

  /** Reads the first processor's model name and flags from {@code /proc/cpuinfo} text. */
  public static CpuFeatures parse(String cpuinfo, int logicalCores) {
    Set<String> present = new TreeSet<>();
    String flagsLine = value(cpuinfo, "flags", "Features");
    if (flagsLine != null) {
      present.addAll(Arrays.asList(flagsLine.split("\\s+")));
    }
    List<String> flags = new ArrayList<>();
    for (String f : RELEVANT) {
      if (present.contains(f)) {
        flags.add(f);
      }
    }
    String model = modelName(cpuinfo);
    return new CpuFeatures(
        model == null ? System.getProperty("os.arch") : model,
        logicalCores,
        List.copyOf(flags),
        int8DotProduct(present));
  }

  /** The first model-name line's value in {@code /proc/cpuinfo} text (x86, or Arm's "Model"). */
  static @Nullable String modelName(String cpuinfo) {
    return value(cpuinfo, "model name", "Model");
  }

  /** The value of the first line whose key is one of the two, or null. */
  private static @Nullable String value(String cpuinfo, String key, String otherKey) {
    for (String line : cpuinfo.split("\n")) {
      int colon = line.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String k = line.substring(0, colon).trim();
      if (k.equals(key) || k.equals(otherKey)) {
        return line.substring(colon + 1).trim();
      }
    }
    return null;
  }

  private static String int8DotProduct(Set<String> f) {
    if (f.contains("amx_int8")) {
      return "AMX-INT8";
    } else if (f.contains("avx512_vnni")) {
      return "AVX-512 VNNI";
    } else if (f.contains("avx_vnni")) {
      return "AVX-VNNI";
    } else if (f.contains("i8mm")) {
      return "Arm I8MM";
    } else if (f.contains("asimddp")) {
      return "Arm dot product";
    }
    return "none";
  }

  /**
   * Whether ONNX Runtime's uint8 × int8 kernels can saturate on this CPU: x86 without an int8
   * dot-product instruction multiplies with (V)PMADDUBSW, which adds each pair of products into a
   * signed 16-bit lane, and two products of 255 × 127 do not fit. Measured on an AVX2-only CPU: the
   * Fashion-MNIST CNN in static int8 (per-channel weights, uint8 activations) lost 0.9 point of
   * top-1 against FP32; with 7-bit weights (reduce_range) it lost none.
   */
  public boolean u8s8Saturates() {
    return int8DotProduct.equals("none") && (flags.contains("avx2") || flags.contains("sse4_2"));
  }

  /** One line for people, e.g. what the int8 numbers below can be expected to show. */
  public String int8Note() {
    return switch (int8DotProduct) {
      case "none" ->
          "no int8 dot-product instructions: int8 models gain little over FP32 on this CPU";
      case "unknown" -> "instruction sets unknown (no /proc/cpuinfo)";
      default -> "int8 dot product: " + int8DotProduct;
    };
  }
}
