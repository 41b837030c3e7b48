package io.quantguard.serve;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.quantguard.runtime.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Reads and writes inference requests and responses of the Open Inference Protocol v2 REST API,
 * with its binary tensor data extension.
 *
 * <p>A request is one JSON object, {@code {"id", "parameters", "inputs": [{"name", "shape",
 * "datatype", "data"}], "outputs": [{"name", "parameters": {"binary_data"}}]}}, where {@code data}
 * holds the elements in row-major order, flat or nested. With the binary extension the body is the
 * JSON object of {@code Inference-Header-Content-Length} bytes followed by the raw tensors, in the
 * order of the inputs that carry {@code "parameters": {"binary_data_size": N}} instead of {@code
 * data}; each is little-endian, row-major, without padding, exactly {@code elements × element size}
 * bytes. Outputs requested with {@code binary_data: true} (or all of them, with the request
 * parameter {@code binary_data_output: true}) come back the same way after the response's JSON. The
 * request parameter {@code slice} (a string) tags the request with a slice of the traffic, for a
 * rollout's per-slice live comparison ({@link TrafficSlices}).
 *
 * <p>Floats are read from their decimal text straight to the nearest {@code float}, never through
 * {@code double}, so a value written with {@link Float#toString} arrives bit for bit.
 */
final class OipCodec {
  static final ObjectMapper JSON =
      JsonMapper.builder()
          .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .build();

  /**
   * The largest JSON part of a request. A JSON tensor costs a tree node per element, several times
   * its text in memory, so large tensors must come as binary data, which costs its own size.
   */
  static final int MAX_JSON_BYTES = 16 << 20;

  private OipCodec() {}

  /** A response body; {@code jsonLength} is the JSON part's size when binary data follows it. */
  record Encoded(byte[] body, int jsonLength, boolean binary) {}

  /**
   * Decodes a request for the model {@code key} with {@code signature}.
   *
   * @param jsonLength the {@code Inference-Header-Content-Length} header, or null when the whole
   *     body is JSON
   * @param rejectNonFinite whether NaN or infinity in a float input is refused
   * @throws OipException (400) naming the input and what the model wants
   */
  static InferRequest decode(
      byte[] body,
      @Nullable Integer jsonLength,
      ModelKey key,
      ModelSignature signature,
      boolean rejectNonFinite) {
    int headerLength = jsonLength == null ? body.length : jsonLength;
    if (headerLength < 0 || headerLength > body.length) {
      throw OipException.badRequest(
          "Inference-Header-Content-Length is "
              + headerLength
              + " but the body has "
              + body.length
              + " bytes");
    }
    if (headerLength > MAX_JSON_BYTES) {
      throw new OipException(
          413,
          "the request's JSON is "
              + headerLength
              + " bytes; this server reads at most "
              + MAX_JSON_BYTES
              + " bytes of JSON: send large tensors as binary tensor data");
    }
    JsonNode root;
    try {
      root = JSON.readTree(body, 0, headerLength);
    } catch (JsonProcessingException e) {
      throw OipException.badRequest("the request is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (root == null || !root.isObject()) {
      throw OipException.badRequest("the request must be a JSON object with \"inputs\"");
    }
    String id = null;
    if (root.has("id")) {
      if (!root.get("id").isTextual()) {
        throw OipException.badRequest("\"id\" must be a string");
      }
      id = root.get("id").asText();
    }
    boolean binaryByDefault = flag(root.get("parameters"), "binary_data_output", "parameters");
    String slice = null;
    JsonNode sliceNode = root.path("parameters").get("slice");
    if (sliceNode != null && !sliceNode.isNull()) {
      if (!sliceNode.isTextual()) {
        throw OipException.badRequest("parameters.slice must be a string, not " + sliceNode);
      }
      slice = TrafficSlices.check(sliceNode.asText(), "parameters.slice");
    }

    JsonNode inputs = root.get("inputs");
    if (inputs == null || !inputs.isArray() || inputs.isEmpty()) {
      throw OipException.badRequest(
          "the request has no \"inputs\" array; model " + key + " wants " + signature.inputs());
    }
    Map<String, Tensor> byName = new LinkedHashMap<>();
    int cursor = headerLength;
    for (JsonNode in : inputs) {
      Decoded d = decodeInput(in, body, cursor, jsonLength != null, key, signature);
      if (byName.put(d.name, d.tensor) != null) {
        throw OipException.badRequest("input '" + d.name + "' is given twice");
      }
      cursor = d.next;
    }
    if (cursor != body.length) {
      throw OipException.badRequest(
          (body.length - cursor)
              + " bytes of binary data follow the last binary input; binary_data_size must add"
              + " up to the body after the JSON header");
    }
    Map<String, Tensor> ordered = new LinkedHashMap<>();
    for (TensorSpec spec : signature.inputs()) {
      Tensor t = byName.get(spec.name());
      if (t == null) {
        throw OipException.badRequest(
            "missing input '" + spec.name() + "': model " + key + " wants " + signature.inputs());
      }
      ordered.put(spec.name(), t);
    }
    if (rejectNonFinite) {
      checkFinite(ordered);
    }
    return new InferRequest(
        id, ordered, outputs(root.get("outputs"), binaryByDefault, key, signature), slice);
  }

  /**
   * Checks tensors decoded for one model against another model's signature (a shadow version's):
   * the same names, types and shapes.
   */
  static void check(Map<String, Tensor> inputs, ModelKey key, ModelSignature signature) {
    if (!inputs
        .keySet()
        .equals(new HashSet<>(signature.inputs().stream().map(TensorSpec::name).toList()))) {
      throw OipException.badRequest(
          "inputs " + inputs.keySet() + " do not match model " + key + ": " + signature.inputs());
    }
    for (TensorSpec spec : signature.inputs()) {
      Tensor t = inputs.get(spec.name());
      if (t == null) { // the names matched above
        throw OipException.badRequest("missing input '" + spec.name() + "' for model " + key);
      }
      if (t.type() != spec.type()) {
        throw wrongType(spec, key, OipDatatype.nameOf(t.type()));
      }
      checkShape(spec, key, t.shape());
    }
  }

  private record Decoded(String name, Tensor tensor, int next) {}

  private static Decoded decodeInput(
      JsonNode in,
      byte[] body,
      int cursor,
      boolean binaryAllowed,
      ModelKey key,
      ModelSignature signature) {
    if (!in.isObject() || !in.path("name").isTextual()) {
      throw OipException.badRequest("every input must be an object with a \"name\" string");
    }
    String name = in.get("name").asText();
    TensorSpec spec =
        signature
            .input(name)
            .orElseThrow(
                () ->
                    OipException.badRequest(
                        "model "
                            + key
                            + " has no input '"
                            + name
                            + "'; its inputs are "
                            + signature.inputs()));
    String datatype = in.path("datatype").asText("");
    if (!OipDatatype.nameOf(spec.type())
        .equals(datatype.trim().toUpperCase(java.util.Locale.ROOT))) {
      throw wrongType(spec, key, datatype.isEmpty() ? "no datatype" : "'" + datatype + "'");
    }
    OipDatatype type = OipDatatype.of(spec.type()).orElseThrow();
    long[] shape = shape(in.get("shape"), name);
    checkShape(spec, key, shape);
    int count = elementCount(shape, name);

    JsonNode size = in.path("parameters").get("binary_data_size");
    JsonNode data = in.get("data");
    if (size != null && data != null) {
      throw OipException.badRequest(
          "input '" + name + "' has both \"data\" and binary_data_size; send one");
    }
    if (size != null) {
      if (!binaryAllowed) {
        throw OipException.badRequest(
            "input '"
                + name
                + "' has binary_data_size but the request has no Inference-Header-Content-Length"
                + " header saying where its JSON ends");
      }
      long want = (long) count * type.elementBytes();
      if (!size.canConvertToLong() || !size.isIntegralNumber() || size.longValue() != want) {
        throw OipException.badRequest(
            "input '"
                + name
                + "' has binary_data_size "
                + size
                + "; "
                + datatype
                + Arrays.toString(shape)
                + " takes "
                + want
                + " bytes");
      }
      if (cursor + want > body.length) {
        throw OipException.badRequest(
            "the body ends inside input '"
                + name
                + "': it needs "
                + want
                + " bytes of binary data, "
                + (body.length - cursor)
                + " are left");
      }
      Tensor t = fromBinary(name, type, body, cursor, count, shape);
      return new Decoded(name, t, cursor + (int) want);
    }
    if (data == null) {
      throw OipException.badRequest(
          "input '" + name + "' has neither \"data\" nor parameters.binary_data_size");
    }
    return new Decoded(name, fromJson(name, type, data, count, shape), cursor);
  }

  private static OipException wrongType(TensorSpec spec, ModelKey key, String got) {
    return OipException.badRequest(
        "input '"
            + spec.name()
            + "' must be "
            + spec.datatype()
            + " (model "
            + key
            + " wants "
            + spec
            + "); the request says "
            + got);
  }

  private static long[] shape(JsonNode node, String name) {
    if (node == null || !node.isArray()) {
      throw OipException.badRequest("input '" + name + "' has no \"shape\" array");
    }
    long[] shape = new long[node.size()];
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = node.get(i);
      if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
        throw OipException.badRequest(
            "input '" + name + "' has shape " + node + "; dimensions are integers >= 0");
      }
      shape[i] = d.longValue();
    }
    return shape;
  }

  private static void checkShape(TensorSpec spec, ModelKey key, long[] shape) {
    long[] want = spec.shape();
    boolean ok = want.length == shape.length;
    for (int i = 0; ok && i < want.length; i++) {
      ok = want[i] < 0 || want[i] == shape[i];
    }
    if (!ok) {
      throw OipException.badRequest(
          "input '"
              + spec.name()
              + "' has shape "
              + Arrays.toString(shape)
              + " but model "
              + key
              + " wants "
              + Arrays.toString(want)
              + " (-1: any size)");
    }
  }

  private static int elementCount(long[] shape, String name) {
    long n = 1;
    for (long d : shape) {
      n *= d;
      if (n > Integer.MAX_VALUE - 8) {
        throw OipException.badRequest(
            "input '" + name + "' has shape " + Arrays.toString(shape) + ": too many elements");
      }
    }
    return (int) n;
  }

  private static Tensor fromBinary(
      String name, OipDatatype type, byte[] body, int offset, int count, long[] shape) {
    ByteBuffer b = ByteBuffer.wrap(body, offset, count * type.elementBytes()).slice();
    b.order(ByteOrder.LITTLE_ENDIAN);
    switch (type) {
      case FP32 -> {
        float[] f = new float[count];
        b.asFloatBuffer().get(f);
        return Tensor.ofFloats(f, shape);
      }
      case INT64 -> {
        long[] l = new long[count];
        b.asLongBuffer().get(l);
        return Tensor.ofLongs(l, shape);
      }
      case INT32 -> {
        int[] n = new int[count];
        b.asIntBuffer().get(n);
        return Tensor.ofInts(n, shape);
      }
      default -> {
        byte[] raw = new byte[count];
        b.get(raw);
        if (type == OipDatatype.BOOL) {
          for (int i = 0; i < count; i++) {
            if (raw[i] != 0 && raw[i] != 1) {
              throw OipException.badRequest(
                  "input '" + name + "' element " + i + " is byte " + raw[i] + "; BOOL is 0 or 1");
            }
          }
        }
        return Tensor.ofBytes(type.onnx(), raw, shape);
      }
    }
  }

  private static Tensor fromJson(
      String name, OipDatatype type, JsonNode data, int count, long[] shape) {
    List<JsonNode> values = new ArrayList<>(count);
    flatten(data, values, count + 1);
    if (values.size() != count) {
      throw OipException.badRequest(
          "input '"
              + name
              + "' has "
              + (values.size() > count ? "more than " + count : values.size())
              + " values; shape "
              + Arrays.toString(shape)
              + " needs "
              + count);
    }
    switch (type) {
      case FP32 -> {
        float[] f = new float[count];
        for (int i = 0; i < count; i++) {
          JsonNode v = values.get(i);
          if (!v.isNumber()) {
            throw notA(name, i, v, "a number");
          }
          f[i] = v.floatValue();
        }
        return Tensor.ofFloats(f, shape);
      }
      case INT64 -> {
        long[] l = new long[count];
        for (int i = 0; i < count; i++) {
          l[i] = integer(name, i, values.get(i), Long.MIN_VALUE, Long.MAX_VALUE);
        }
        return Tensor.ofLongs(l, shape);
      }
      case INT32 -> {
        int[] n = new int[count];
        for (int i = 0; i < count; i++) {
          n[i] = (int) integer(name, i, values.get(i), Integer.MIN_VALUE, Integer.MAX_VALUE);
        }
        return Tensor.ofInts(n, shape);
      }
      default -> {
        byte[] b = new byte[count];
        for (int i = 0; i < count; i++) {
          JsonNode v = values.get(i);
          b[i] =
              type == OipDatatype.BOOL && v.isBoolean()
                  ? (byte) (v.booleanValue() ? 1 : 0)
                  : (byte)
                      integer(
                          name,
                          i,
                          v,
                          type == OipDatatype.INT8 ? -128 : 0,
                          type == OipDatatype.INT8 ? 127 : type == OipDatatype.BOOL ? 1 : 255);
        }
        return Tensor.ofBytes(type.onnx(), b, shape);
      }
    }
  }

  private static void flatten(JsonNode node, List<JsonNode> out, int limit) {
    if (out.size() >= limit) {
      return;
    }
    if (node.isArray()) {
      for (JsonNode child : node) {
        flatten(child, out, limit);
      }
    } else {
      out.add(node);
    }
  }

  private static long integer(String name, int i, JsonNode v, long min, long max) {
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw notA(name, i, v, "an integer");
    }
    long x = v.longValue();
    if (x < min || x > max) {
      throw OipException.badRequest(
          "input '"
              + name
              + "' element "
              + i
              + " is "
              + x
              + ", outside ["
              + min
              + ", "
              + max
              + "]");
    }
    return x;
  }

  private static OipException notA(String name, int i, JsonNode v, String what) {
    String shown = v.toString();
    return OipException.badRequest(
        "input '"
            + name
            + "' element "
            + i
            + " is "
            + (shown.length() > 40 ? shown.substring(0, 40) + "..." : shown)
            + ", not "
            + what);
  }

  private static void checkFinite(Map<String, Tensor> inputs) {
    for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
      int at = e.getValue().firstNonFinite();
      if (at >= 0) {
        throw OipException.badRequest(
            "input '"
                + e.getKey()
                + "' holds "
                + e.getValue().floats()[at]
                + " at element "
                + at
                + "; send finite values (the server refuses NaN and infinity unless configured to"
                + " allow them)");
      }
    }
  }

  private static boolean flag(JsonNode parameters, String name, String where) {
    if (parameters == null || parameters.isNull()) {
      return false;
    }
    if (!parameters.isObject()) {
      throw OipException.badRequest("\"" + where + "\" must be an object");
    }
    JsonNode v = parameters.get(name);
    if (v == null) {
      return false;
    }
    if (!v.isBoolean()) {
      throw OipException.badRequest(where + "." + name + " must be true or false, not " + v);
    }
    return v.booleanValue();
  }

  private static List<InferRequest.RequestedOutput> outputs(
      JsonNode node, boolean binaryByDefault, ModelKey key, ModelSignature signature) {
    List<InferRequest.RequestedOutput> out = new ArrayList<>();
    if (node == null || node.isNull() || (node.isArray() && node.isEmpty())) {
      for (String name : signature.outputNames()) {
        out.add(new InferRequest.RequestedOutput(name, binaryByDefault));
      }
      return out;
    }
    if (!node.isArray()) {
      throw OipException.badRequest("\"outputs\" must be an array of {\"name\": ...}");
    }
    Set<String> seen = new HashSet<>();
    for (JsonNode o : node) {
      String name = o.path("name").asText(null);
      if (name == null || signature.output(name).isEmpty()) {
        throw OipException.badRequest(
            "model "
                + key
                + " has no output "
                + (name == null ? o : "'" + name + "'")
                + "; its outputs are "
                + signature.outputNames());
      }
      if (!seen.add(name)) {
        throw OipException.badRequest("output '" + name + "' is requested twice");
      }
      boolean binary =
          o.path("parameters").has("binary_data")
              ? flag(o.get("parameters"), "binary_data", "outputs[" + name + "].parameters")
              : binaryByDefault;
      out.add(new InferRequest.RequestedOutput(name, binary));
    }
    return out;
  }

  /** Encodes a response: JSON, followed by binary tensor data for the outputs asked so. */
  static Encoded encode(
      ModelKey key,
      @Nullable String id,
      List<InferRequest.RequestedOutput> wanted,
      Map<String, Tensor> outputs) {
    ByteArrayOutputStream json = new ByteArrayOutputStream(1024);
    List<Tensor> binary = new ArrayList<>();
    try (JsonGenerator g = JSON.getFactory().createGenerator(json)) {
      g.writeStartObject();
      g.writeStringField("model_name", key.name());
      g.writeStringField("model_version", Integer.toString(key.version()));
      if (id != null) {
        g.writeStringField("id", id);
      }
      g.writeArrayFieldStart("outputs");
      for (InferRequest.RequestedOutput o : wanted) {
        Tensor t =
            Objects.requireNonNull(outputs.get(o.name()), () -> "the model computed " + o.name());
        writeTensor(g, o.name(), t, o.binary(), binary);
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return withBinary(json, binary);
  }

  /**
   * Encodes a request (what a client sends): the inputs as JSON data or, with {@code binaryInputs},
   * as binary tensor data; {@code binaryOutputs} asks for every output as binary.
   */
  static Encoded encodeRequest(
      String id, Map<String, Tensor> inputs, boolean binaryInputs, boolean binaryOutputs) {
    ByteArrayOutputStream json = new ByteArrayOutputStream(1024);
    List<Tensor> binary = new ArrayList<>();
    try (JsonGenerator g = JSON.getFactory().createGenerator(json)) {
      g.writeStartObject();
      if (id != null) {
        g.writeStringField("id", id);
      }
      if (binaryOutputs) {
        g.writeObjectFieldStart("parameters");
        g.writeBooleanField("binary_data_output", true);
        g.writeEndObject();
      }
      g.writeArrayFieldStart("inputs");
      for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
        writeTensor(g, e.getKey(), e.getValue(), binaryInputs, binary);
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return withBinary(json, binary);
  }

  /**
   * Writes {@code {"name", "datatype", "shape", "data"}}, or {@code "parameters":
   * {"binary_data_size"}} in place of data with the tensor added to {@code binary}.
   */
  private static void writeTensor(
      JsonGenerator g, String name, Tensor t, boolean asBinary, List<Tensor> binary)
      throws IOException {
    g.writeStartObject();
    g.writeStringField("name", name);
    g.writeStringField("datatype", OipDatatype.nameOf(t.type()));
    g.writeArrayFieldStart("shape");
    for (long d : t.shape()) {
      g.writeNumber(d);
    }
    g.writeEndArray();
    if (asBinary) {
      g.writeObjectFieldStart("parameters");
      g.writeNumberField("binary_data_size", byteSize(t));
      g.writeEndObject();
      binary.add(t);
    } else {
      g.writeArrayFieldStart("data");
      writeData(g, t);
      g.writeEndArray();
    }
    g.writeEndObject();
  }

  private static Encoded withBinary(ByteArrayOutputStream json, List<Tensor> binary) {
    int jsonLength = json.size();
    for (Tensor t : binary) {
      byte[] raw = toBinary(t);
      json.write(raw, 0, raw.length);
    }
    return new Encoded(json.toByteArray(), jsonLength, !binary.isEmpty());
  }

  private static void writeData(JsonGenerator g, Tensor t) throws IOException {
    Object data = t.data();
    if (data instanceof float[] f) {
      for (float v : f) {
        g.writeNumber(v);
      }
    } else if (data instanceof long[] l) {
      for (long v : l) {
        g.writeNumber(v);
      }
    } else if (data instanceof int[] n) {
      for (int v : n) {
        g.writeNumber(v);
      }
    } else {
      byte[] b = (byte[]) data;
      for (byte v : b) {
        switch (t.type()) {
          case BOOL -> g.writeBoolean(v != 0);
          case UINT8 -> g.writeNumber(v & 0xff);
          default -> g.writeNumber(v);
        }
      }
    }
  }

  private static long byteSize(Tensor t) {
    return t.elementCount() * (t.type().bits() / 8);
  }

  private static byte[] toBinary(Tensor t) {
    ByteBuffer b = ByteBuffer.allocate((int) byteSize(t)).order(ByteOrder.LITTLE_ENDIAN);
    Object data = t.data();
    if (data instanceof float[] f) {
      b.asFloatBuffer().put(f);
    } else if (data instanceof long[] l) {
      b.asLongBuffer().put(l);
    } else if (data instanceof int[] n) {
      b.asIntBuffer().put(n);
    } else {
      b.put((byte[]) data);
    }
    return b.array();
  }

  /** {@code {"error": message}}. */
  static byte[] error(@Nullable String message) {
    try {
      return JSON.writeValueAsBytes(Map.of("error", message));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
