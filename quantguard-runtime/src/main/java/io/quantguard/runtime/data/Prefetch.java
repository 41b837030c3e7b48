package io.quantguard.runtime.data;

import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.jspecify.annotations.Nullable;

/**
 * Reads batches on a background thread while the caller computes, so decoding and tokenizing
 * overlap with inference. At most {@code depth} batches wait in memory.
 */
public final class Prefetch implements BatchStream {
  private static final Object END = new Object();

  private final BatchStream source;
  private final BlockingQueue<Object> queue;
  private final Thread reader;
  private @Nullable Object next;

  private Prefetch(BatchStream source, int depth) {
    this.source = source;
    this.queue = new ArrayBlockingQueue<>(depth);
    this.reader = new Thread(this::read, "quantguard-prefetch");
    reader.setDaemon(true);
    reader.start();
  }

  /** Wraps a stream; the wrapper owns it and closes it. */
  public static BatchStream of(BatchStream source, int depth) {
    return new Prefetch(source, depth);
  }

  private void read() {
    try {
      while (source.hasNext()) {
        queue.put(source.next());
      }
      queue.put(END);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      try {
        queue.put(e);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private Object peek() {
    Object o = next;
    if (o == null) {
      try {
        o = queue.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while reading data", e);
      }
      next = o;
    }
    if (o instanceof RuntimeException e) {
      throw e;
    }
    return o;
  }

  @Override
  public boolean hasNext() {
    return peek() != END;
  }

  @Override
  public Batch next() {
    Object o = peek();
    if (o == END) {
      throw new NoSuchElementException();
    }
    next = null;
    return (Batch) o;
  }

  @Override
  public void close() {
    reader.interrupt();
    try {
      reader.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    source.close();
  }
}
