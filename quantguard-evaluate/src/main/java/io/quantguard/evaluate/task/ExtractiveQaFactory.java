package io.quantguard.evaluate.task;

import io.quantguard.evaluate.Task;
import io.quantguard.evaluate.TaskFactory;
import io.quantguard.evaluate.TaskOptions;

/**
 * Registers {@code qa} (extractive question answering) with the {@link java.util.ServiceLoader}.
 */
public final class ExtractiveQaFactory implements TaskFactory {
  @Override
  public String name() {
    return "qa";
  }

  @Override
  public String description() {
    return "extractive QA: start/end logits → span; SQuAD exact match and token F1"
        + " (start=start_logits, end=end_logits, max_answer_tokens=30, tokenizer=)";
  }

  @Override
  public Task<?> create(TaskOptions options) {
    return new ExtractiveQaTask(options);
  }
}
