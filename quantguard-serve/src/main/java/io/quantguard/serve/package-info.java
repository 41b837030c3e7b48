/**
 * An Open Inference Protocol v2 (KServe v2) server over ONNX Runtime, with dynamic batching,
 * Prometheus metrics and graceful shutdown.
 *
 * <p>Entry points: {@link io.quantguard.serve.InferenceServer} (built from a {@link
 * io.quantguard.serve.ServerConfig} and one {@link io.quantguard.serve.ModelSource} per served
 * version), {@link io.quantguard.serve.BearerTokenGuard} for state-changing endpoints, and {@link
 * io.quantguard.serve.LoadGenerator} with {@link io.quantguard.serve.RequestBody} for load.
 *
 * <h2>The request path, and where a rollout controller plugs in</h2>
 *
 * <pre>
 *  POST /v2/models/NAME[/versions/V]/infer
 *    1. ready? content type (415)? ........................ OipEndpoints
 *    2. Router.route(NAME, V, catalog) -> Route(primary, shadow?)        &lt;- routing step
 *    3. body (413 before reading past the limit); decode and check the
 *       inputs against the primary's ModelSignature (400 naming the input), and
 *       the slice tag (parameters.slice or X-QuantGuard-Slice), if any
 *    4. primary's Batcher.submit (429 when its queue is full); the shadow's, when
 *       routed, with the same decoded inputs (its failures never reach the client)
 *    5. the worker stacks compatible requests, runs the ModelRunner once, splits rows
 *    6. the client gets the primary's outputs (JSON or binary)
 *    7. ExchangeObserver.observe(Exchange(inputs, primary, shadow, slice)) &lt;- observation hook
 *       on the observer thread, off the request path
 * </pre>
 *
 * <p>{@link io.quantguard.serve.RolloutController} is such a {@link io.quantguard.serve.Router} (a
 * canary share, a shadow) and {@link io.quantguard.serve.ExchangeObserver} (the paired {@link
 * io.quantguard.serve.LiveWindow}, overall and per slice tag, judged every interval by the
 * rollout's policy), given to {@link io.quantguard.serve.InferenceServer.Builder#rollout}; its
 * state lives in the registry. {@link io.quantguard.serve.LabelFeedback} is another observer: late
 * labels joined with recent predictions. {@link io.quantguard.serve.DriftMonitor} is a third: a
 * sampled share of the requests, on a bounded worker of its own, compared with the reference
 * profile stored in the registry (or given for a model file), and run through the FP32 overflow
 * probe ({@code GET /v2/models/NAME/drift}; a rollout's policy may limit {@code drift_share},
 * {@code psi} and {@code overflow_rate}). Their endpoints ({@code /v2/rollouts/NAME}, {@code
 * /v2/feedback}) register beside the protocol's and pass the {@link
 * io.quantguard.serve.BearerTokenGuard} before they change anything; the protocol, batching and
 * metrics code stay as they are.
 *
 * <p>{@link io.quantguard.serve.VariantSelector} ({@link
 * io.quantguard.serve.InferenceServer.Builder#adaptive}) is a routing step too: it keeps a model
 * within a {@link io.quantguard.serve.LatencyObjective} by answering requests that name no version
 * with the next faster variant (ranked by a probe at start and again after a reload) while the load
 * breaks the objective, and with the preferred one again once it falls; it takes each answered
 * request's latency where the request meters are fed ({@code GET /v2/models/NAME/variants}).
 *
 * <p>{@code GET /dashboard} is a live page the server serves itself (its script and ECharts from
 * the jar), drawn from {@code GET /v2/timeline} (a one-second ring per version, fed where the
 * request meters are), {@code GET /v2/dashboard} and the drift endpoint.
 *
 * <p>{@link io.quantguard.serve.ModelRunner} is the only seam to ONNX Runtime: one worker thread
 * per version calls it and it is closed only after that worker stopped, so a session lease with
 * drain-before-close replaces {@link io.quantguard.serve.ModelRunner#session} locally.
 */
@NullMarked
package io.quantguard.serve;

import org.jspecify.annotations.NullMarked;
