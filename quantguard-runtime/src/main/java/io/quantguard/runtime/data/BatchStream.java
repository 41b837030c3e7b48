package io.quantguard.runtime.data;

import java.util.Iterator;

/** Batches read from a data source in order; closing releases files and native tokenizers. */
public interface BatchStream extends Iterator<Batch>, AutoCloseable {
  @Override
  void close();
}
