package io.quantguard.quantize;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InvalidObjectException;
import java.io.ObjectStreamException;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;

/**
 * The Java-serialized form of a calibration plan or accumulator: the bytes of its own {@code
 * writeTo}, so the form Spark ships between JVMs is the one files keep, and reading it back checks
 * what {@code readFrom} checks.
 */
record WrittenForm(Kind kind, byte[] bytes) implements Serializable {
  enum Kind {
    PLAN,
    ACCUMULATOR
  }

  /** What writes the bytes: a plan's or an accumulator's {@code writeTo}. */
  interface Writer {
    void writeTo(OutputStream out) throws IOException;
  }

  static WrittenForm of(Kind kind, Writer writer) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    try {
      writer.writeTo(b);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new WrittenForm(kind, b.toByteArray());
  }

  private Object readResolve() throws ObjectStreamException {
    try {
      ByteArrayInputStream in = new ByteArrayInputStream(bytes);
      return switch (kind) {
        case PLAN -> CalibrationPlan.readFrom(in);
        case ACCUMULATOR -> CalibrationAccumulator.readFrom(in);
      };
    } catch (IOException e) {
      InvalidObjectException x = new InvalidObjectException(e.getMessage());
      x.initCause(e);
      throw x;
    }
  }
}
