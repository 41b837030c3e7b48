package io.quantguard.onnx;

/**
 * Decodes the 8-bit and 4-bit floating-point types of ONNX (opset 19+ and 23+). Formats follow "FP8
 * Formats for Deep Learning" (Micikevicius et al., 2022) for E4M3FN and E5M2, the FNUZ variants of
 * Graphcore's proposal (no negative zero, NaN = 0x80, exponent bias one larger), OCP MX v1.0 for
 * E8M0 and E2M1.
 */
final class MiniFloat {
  private MiniFloat() {}

  static float decode(DataType type, int bits) {
    return switch (type) {
      case FLOAT8E4M3FN -> {
        if ((bits & 0x7f) == 0x7f) {
          yield Float.NaN;
        }
        yield generic(bits, 4, 3, 7);
      }
      case FLOAT8E4M3FNUZ -> bits == 0x80 ? Float.NaN : generic(bits, 4, 3, 8);
      case FLOAT8E5M2 -> Float16.toFloat((short) (bits << 8));
      case FLOAT8E5M2FNUZ -> bits == 0x80 ? Float.NaN : generic(bits, 5, 2, 16);
      case FLOAT8E8M0 -> bits == 0xff ? Float.NaN : (float) Math.pow(2, bits - 127);
      case FLOAT4E2M1 -> generic(bits, 2, 1, 1);
      default -> throw new IllegalArgumentException(type + " is not a mini float");
    };
  }

  /** sign | exponent | mantissa with subnormals when the exponent field is zero. */
  private static float generic(int bits, int expBits, int mantBits, int bias) {
    int total = 1 + expBits + mantBits;
    boolean negative = ((bits >> (total - 1)) & 1) != 0;
    int exp = (bits >> mantBits) & ((1 << expBits) - 1);
    int mant = bits & ((1 << mantBits) - 1);
    double v;
    if (exp == 0) {
      v = mant / (double) (1 << mantBits) * Math.pow(2, 1 - bias);
    } else {
      v = (1 + mant / (double) (1 << mantBits)) * Math.pow(2, exp - bias);
    }
    return (float) (negative ? -v : v);
  }
}
