/**
 * The whole offline workflow of a project as one resumable run: {@code quantguard run} as a
 * library.
 *
 * <p>Entry points: {@link io.quantguard.workflow.Project} (the project file, {@code
 * quantguard.yaml}, whose grammar is the JSON schema {@code quantguard.schema.json} beside it),
 * {@link io.quantguard.workflow.Workflow} (FP32 baseline, recommended approach, tuning, final
 * evaluation, gate and registration, each step reused while its inputs' content hash is unchanged),
 * its {@link io.quantguard.workflow.WorkflowResult} and {@code summary.html}, and {@link
 * io.quantguard.workflow.DefaultProject} (the built-in MiniLM/Europarl project).
 */
package io.quantguard.workflow;
