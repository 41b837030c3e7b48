package io.quantguard.quantize;

/**
 * Block-wise quantization of a matrix along its rows: every {@code block} consecutive values of a
 * row share one scale (and, for affine schemes, one zero point). Small blocks follow the local
 * magnitude of the weights, which is what makes 4-bit weights usable (as in GPTQ/AWQ-style
 * weight-only formats and ONNX Runtime's MatMulNBits). The last block of a row is padded with zeros
 * when the row length is not a multiple of the block size.
 *
 * @param codes quantized values, {@code rows × cols} row-major, in the scheme's integer range
 * @param scales {@code rows × blocks} row-major
 * @param zeroPoints {@code rows × blocks}, all 0 for symmetric schemes
 */
record BlockQuantization(
    int rows, int cols, int block, Scheme scheme, int[] codes, float[] scales, int[] zeroPoints) {

  int blocks() {
    return (cols + block - 1) / block;
  }

  static BlockQuantization of(
      float[] w, int rows, int cols, int block, Scheme scheme, Recipe.WeightMethod method) {
    int blocks = (cols + block - 1) / block;
    int[] codes = new int[rows * cols];
    float[] scales = new float[rows * blocks];
    int[] zps = new int[rows * blocks];
    float[] chunk = new float[block];
    for (int r = 0; r < rows; r++) {
      for (int b = 0; b < blocks; b++) {
        int from = b * block;
        int to = Math.min(cols, from + block);
        int n = to - from;
        System.arraycopy(w, r * cols + from, chunk, 0, n);
        float[] values = n == block ? chunk : java.util.Arrays.copyOf(chunk, n);
        QuantParams p = scheme.params(WeightRanges.range(values, scheme, method, 99.99));
        scales[r * blocks + b] = p.scale()[0];
        zps[r * blocks + b] = p.zeroPoint()[0];
        for (int i = 0; i < n; i++) {
          codes[r * cols + from + i] =
              QuantParams.quantize(
                  values[i], p.scale()[0], p.zeroPoint()[0], scheme.qmin(), scheme.qmax());
        }
      }
    }
    return new BlockQuantization(rows, cols, block, scheme, codes, scales, zps);
  }

  int[] codesRowMajor() {
    return codes;
  }

  /**
   * Unsigned 4-bit codes packed two per byte, low nibble first, each row padded to whole blocks:
   * the {@code [rows, blocks, block / 2]} layout of MatMulNBits. Signed codes are offset by 8
   * (MatMulNBits' default zero point), padding holds the zero point.
   */
  byte[] packedUnsigned4() {
    int blocks = blocks();
    int perRow = blocks * block / 2;
    byte[] out = new byte[rows * perRow];
    int offset = scheme.type().isSigned() ? 8 : 0;
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < blocks * block; c++) {
        int code;
        if (c < cols) {
          code = codes[r * cols + c] + offset;
        } else {
          code = scheme.type().isSigned() ? 8 : zeroPoints[r * blocks + c / block];
        }
        int at = r * perRow + c / 2;
        out[at] |= (byte) ((code & 0x0f) << ((c % 2) * 4));
      }
    }
    return out;
  }

  /**
   * Unsigned 8-bit codes, one per byte, rows padded to whole blocks: MatMulNBits' layout for 8
   * bits. Signed codes are offset by 128 (its default zero point), padding holds the zero point.
   */
  byte[] packedUnsigned8() {
    int blocks = blocks();
    int perRow = blocks * block;
    byte[] out = new byte[rows * perRow];
    boolean signed = scheme.type().isSigned();
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < perRow; c++) {
        int code =
            c < cols
                ? codes[r * cols + c] + (signed ? 128 : 0)
                : (signed ? 128 : zeroPoints[r * blocks + c / block]);
        out[r * perRow + c] = (byte) code;
      }
    }
    return out;
  }

  /** Zero points of unsigned 8-bit schemes, one byte per block. */
  byte[] zeroPoints8() {
    byte[] out = new byte[zeroPoints.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) zeroPoints[i];
    }
    return out;
  }

  /**
   * Zero points of unsigned schemes, two 4-bit values per byte, {@code ceil(blocks / 2)} bytes per
   * row.
   */
  byte[] packedZeroPoints4() {
    int blocks = blocks();
    int perRow = (blocks + 1) / 2;
    byte[] out = new byte[rows * perRow];
    for (int r = 0; r < rows; r++) {
      for (int b = 0; b < blocks; b++) {
        out[r * perRow + b / 2] |= (byte) ((zeroPoints[r * blocks + b] & 0x0f) << ((b % 2) * 4));
      }
    }
    return out;
  }
}
