package io.quantguard.runtime.data;

import io.quantguard.onnx.InvalidInputException;
import io.quantguard.runtime.Tensor;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.OptionalLong;
import java.util.zip.GZIPInputStream;
import org.jspecify.annotations.Nullable;

/**
 * IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or plain: a big-endian header
 * (magic {@code 0x0000_08_NN}: unsigned bytes, NN dimensions, then the dimensions as int32)
 * followed by the values. Images become float tensors through the declared {@link Preprocess}
 * (default scale 1/255); the labels file beside the images ({@code *-images-idx3-*} → {@code
 * *-labels-idx1-*}) comes along.
 */
final class IdxSource implements DataSource {
  private final String name;
  private final Path images;
  private final @Nullable Path labels;
  private final String input;
  private final Preprocess preprocess;
  private final Header header;

  /** The largest sample an IDX header may declare; larger ones come from corrupt headers. */
  private static final long MAX_SAMPLE_BYTES = 64L << 20;

  private record Header(int type, int[] dims, int headerBytes) {
    int count() {
      return dims[0];
    }

    int sampleBytes() {
      int n = 1;
      for (int i = 1; i < dims.length; i++) {
        n *= dims[i];
      }
      return n * width(type);
    }
  }

  IdxSource(String name, Path images, DataOptions o) {
    this.name = name;
    this.images = images;
    this.header = readHeader(images);
    String labelsOpt = o.optional("labels");
    if (labelsOpt != null) {
      this.labels = Path.of(labelsOpt);
      if (!Files.isRegularFile(labels)) {
        throw new InvalidInputException(
            name, "labels file " + labels + " not found", "check the labels= path");
      }
    } else {
      Path guess =
          images.resolveSibling(
              images.getFileName().toString().replace("images-idx3", "labels-idx1"));
      this.labels = !guess.equals(images) && Files.isRegularFile(guess) ? guess : null;
    }
    if (labels != null) {
      Header lh = readHeader(labels);
      if (lh.dims.length != 1 || lh.count() != header.count()) {
        throw new InvalidInputException(
            name,
            "labels file "
                + labels.getFileName()
                + " has shape "
                + Arrays.toString(lh.dims)
                + " but there are "
                + header.count()
                + " images",
            "pair the images with their own labels file");
      }
    }
    this.input = o.string("input", "input_0");
    this.preprocess = Preprocess.from(o, header.type == 0x08 ? 1.0 / 255 : 1.0);
    if (header.dims.length < 2 || header.dims.length > 4) {
      throw new InvalidInputException(
          name,
          "IDX data of shape "
              + Arrays.toString(header.dims)
              + " is not a set of images or vectors",
          "use a [N,H,W] or [N,D] IDX file");
    }
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public OptionalLong size() {
    return OptionalLong.of(header.count());
  }

  @Override
  public boolean hasLabels() {
    return labels != null;
  }

  private static int width(int type) {
    return switch (type) {
      case 0x08, 0x09 -> 1;
      case 0x0B -> 2;
      case 0x0C, 0x0D -> 4;
      case 0x0E -> 8;
      default -> throw new IllegalArgumentException("IDX type 0x" + Integer.toHexString(type));
    };
  }

  static InputStream openMaybeGzip(Path p) throws IOException {
    InputStream raw = new BufferedInputStream(Files.newInputStream(p), 1 << 16);
    raw.mark(2);
    int b1 = raw.read();
    int b2 = raw.read();
    raw.reset();
    if (b1 == 0x1f && b2 == 0x8b) {
      return new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16);
    }
    return raw;
  }

  private Header readHeader(Path p) {
    try (DataInputStream in = new DataInputStream(openMaybeGzip(p))) {
      int magic = in.readInt();
      int type = (magic >>> 8) & 0xff;
      int nd = magic & 0xff;
      if ((magic >>> 16) != 0
          || nd == 0
          || nd > 4
          || !Arrays.asList(0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E).contains(type)) {
        throw new InvalidInputException(
            p.toString(),
            String.format("is not an IDX file (magic 0x%08x)", magic),
            "IDX files start with 0x00000803 (images) or 0x00000801 (labels)");
      }
      int[] dims = new int[nd];
      for (int i = 0; i < nd; i++) {
        dims[i] = in.readInt();
        if (dims[i] <= 0) {
          throw new InvalidInputException(
              p.toString(), "has dimension " + dims[i], "the file is corrupt");
        }
      }
      long sample = width(type);
      for (int i = 1; i < nd; i++) {
        sample *= dims[i];
        if (sample > MAX_SAMPLE_BYTES) {
          throw new InvalidInputException(
              p.toString(),
              "has dimensions " + Arrays.toString(dims) + ": samples of more than 64 MiB each",
              "the file is corrupt");
        }
      }
      return new Header(type, dims, 4 + 4 * nd);
    } catch (EOFException e) {
      throw new InvalidInputException(
          p.toString(), "is truncated inside its header", "fetch the file again", e);
    } catch (IOException e) {
      throw new InvalidInputException(
          p.toString(), "cannot be read: " + e.getMessage(), "check the file", e);
    }
  }

  @Override
  public BatchStream open(int batchSize) {
    try {
      return new Stream(batchSize);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private final class Stream implements BatchStream {
    private final int batchSize;
    private final DataInputStream img;
    private final @Nullable DataInputStream lab;
    private int next;

    Stream(int batchSize) throws IOException {
      this.batchSize = batchSize;
      this.img = new DataInputStream(openMaybeGzip(images));
      img.skipNBytes(header.headerBytes);
      if (labels != null) {
        lab = new DataInputStream(openMaybeGzip(labels));
        lab.skipNBytes(8);
      } else {
        lab = null;
      }
    }

    @Override
    public boolean hasNext() {
      return next < header.count();
    }

    @Override
    public Batch next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      int n = Math.min(batchSize, header.count() - next);
      long bytes = (long) n * header.sampleBytes();
      if (bytes > Integer.MAX_VALUE - 8) {
        throw new InvalidInputException(
            name,
            "a batch of " + n + " samples of " + header.sampleBytes() + " bytes is over 2 GB",
            "use a smaller batch size");
      }
      try {
        byte[] raw = new byte[(int) bytes];
        img.readFully(raw);
        float[] x = decode(raw, n);
        int[] d = header.dims;
        int h = d.length >= 3 ? d[1] : 1;
        int w = d.length >= 3 ? d[2] : d[1];
        int c = d.length == 4 ? d[3] : 1;
        float[] chw = c == 1 ? x : toChannelsFirst(x, n, h, w, c);
        preprocess.normalize(chw, c, h * w);
        Tensor t =
            d.length == 2
                ? Tensor.ofFloats(chw, n, d[1])
                : Tensor.ofFloats(
                    preprocess.arrange(chw, n, c, h, w), preprocess.shape(n, c, h, w));
        long @Nullable [] y = null;
        if (lab != null) {
          byte[] lb = new byte[n];
          lab.readFully(lb);
          y = new long[n];
          for (int i = 0; i < n; i++) {
            y[i] = lb[i] & 0xff;
          }
        }
        Batch b = new Batch(Map.of(input, t), y, List.of(), next);
        next += n;
        return b;
      } catch (EOFException e) {
        throw new InvalidInputException(
            name,
            "ends after " + next + " of " + header.count() + " samples (file truncated)",
            "fetch the file again",
            e);
      } catch (IOException e) {
        throw new InvalidInputException(
            name, "read failed: " + e.getMessage(), "check the file", e);
      }
    }

    private float[] decode(byte[] raw, int n) {
      int per = header.sampleBytes() / width(header.type);
      float[] x = new float[n * per];
      java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(raw); // IDX is big-endian
      for (int i = 0; i < x.length; i++) {
        x[i] =
            switch (header.type) {
              case 0x08 -> raw[i] & 0xff;
              case 0x09 -> raw[i];
              case 0x0B -> b.getShort(i * 2);
              case 0x0C -> b.getInt(i * 4);
              case 0x0D -> b.getFloat(i * 4);
              default -> (float) b.getDouble(i * 8);
            };
      }
      return x;
    }

    private float[] toChannelsFirst(float[] hwc, int n, int h, int w, int c) {
      float[] out = new float[hwc.length];
      int hw = h * w;
      for (int s = 0; s < n; s++) {
        for (int p = 0; p < hw; p++) {
          for (int ch = 0; ch < c; ch++) {
            out[s * c * hw + ch * hw + p] = hwc[s * c * hw + p * c + ch];
          }
        }
      }
      return out;
    }

    @Override
    public void close() {
      try {
        img.close();
        if (lab != null) {
          lab.close();
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
