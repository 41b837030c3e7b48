package io.quantguard.evaluate;

/**
 * Creates a {@link Task} from its options. Implementations are found with {@link
 * java.util.ServiceLoader}: list the class in {@code
 * META-INF/services/io.quantguard.evaluate.TaskFactory}, so a team's own task is picked up from its
 * jar on the class path without changing QuantGuard.
 */
public interface TaskFactory {
  /** The name users select the task by ({@code --task NAME}). */
  String name();

  /** One line for help texts: what the task measures and which options it takes. */
  String description();

  /**
   * Builds the task. Read every option through {@code options}; options nobody read are rejected
   * afterwards, so a typo never silently changes what is measured.
   */
  Task<?> create(TaskOptions options);
}
