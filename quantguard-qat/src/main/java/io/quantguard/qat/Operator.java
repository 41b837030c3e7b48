package io.quantguard.qat;

import ai.djl.ndarray.NDList;

/** One ONNX operator as DJL operations: the node's inputs in, its outputs out, in order. */
@FunctionalInterface
interface Operator {
  NDList apply(OperatorCall call);
}
