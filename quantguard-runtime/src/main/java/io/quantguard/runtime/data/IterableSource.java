package io.quantguard.runtime.data;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.OptionalLong;

/** The batches of an {@link Iterable}, as they come; {@link DataSource#of} re-cuts them. */
final class IterableSource implements DataSource {
  private final String name;
  private final Iterable<Batch> batches;

  IterableSource(String name, Iterable<Batch> batches) {
    this.name = name;
    this.batches = batches;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public BatchStream open(int batchSize) {
    Iterator<Batch> it = batches.iterator();
    return new BatchStream() {
      @Override
      public boolean hasNext() {
        return it.hasNext();
      }

      @Override
      public Batch next() {
        if (!it.hasNext()) {
          throw new NoSuchElementException();
        }
        return it.next();
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public OptionalLong size() {
    long n = 0;
    for (Batch b : batches) {
      n += b.size();
    }
    return OptionalLong.of(n);
  }

  @Override
  public boolean hasLabels() {
    Iterator<Batch> it = batches.iterator();
    return it.hasNext() && it.next().hasLabels();
  }
}
