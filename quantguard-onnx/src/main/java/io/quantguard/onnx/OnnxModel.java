package io.quantguard.onnx;

import io.quantguard.onnx.proto.Onnx.ModelProto;
import io.quantguard.onnx.proto.Onnx.OperatorSetIdProto;
import io.quantguard.onnx.proto.Onnx.StringStringEntryProto;
import io.quantguard.onnx.proto.Onnx.TensorProto;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An ONNX model held for editing: the model-level fields (IR version, opsets, producer, metadata,
 * functions) plus an editable {@link Graph}. Tensors stored in external files stay there until they
 * are read, so models larger than the heap can be inspected and rewritten.
 */
public final class OnnxModel {
  /** The default operator set domain; ONNX treats "" and "ai.onnx" as the same. */
  public static final String DEFAULT_DOMAIN = "";

  public static final String MICROSOFT_DOMAIN = "com.microsoft";

  private final ModelProto.Builder header;
  private final Graph graph;
  private final ExternalData externalData;
  private final String source;

  OnnxModel(ModelProto proto, ExternalData externalData, String source) {
    this.header = proto.toBuilder().clearGraph();
    this.graph = new Graph(proto.getGraph());
    this.externalData = externalData;
    this.source = source;
  }

  /** A model built in memory; any external tensor reference in it is an error when read. */
  public static OnnxModel of(ModelProto proto) {
    return new OnnxModel(proto, ExternalData.NONE, "<in-memory model>");
  }

  public Graph graph() {
    return graph;
  }

  /** Where the model came from (its path), for messages. */
  public String source() {
    return source;
  }

  public ExternalData externalData() {
    return externalData;
  }

  public long irVersion() {
    return header.getIrVersion();
  }

  public void setIrVersion(long version) {
    header.setIrVersion(version);
  }

  public String producerName() {
    return header.getProducerName();
  }

  public String producerVersion() {
    return header.getProducerVersion();
  }

  /** Imported operator sets, domain to version, with the default domain as "". */
  public Map<String, Long> opsets() {
    Map<String, Long> m = new LinkedHashMap<>();
    for (OperatorSetIdProto o : header.getOpsetImportList()) {
      m.put(normalizeDomain(o.getDomain()), o.getVersion());
    }
    return Collections.unmodifiableMap(m);
  }

  /** The imported version of a domain's operator set, or 0 when it is not imported. */
  public long opset(String domain) {
    return opsets().getOrDefault(normalizeDomain(domain), 0L);
  }

  /** Imports a domain's operator set at a version (replacing an existing import). */
  public void setOpset(String domain, long version) {
    String d = normalizeDomain(domain);
    for (int i = 0; i < header.getOpsetImportCount(); i++) {
      if (normalizeDomain(header.getOpsetImport(i).getDomain()).equals(d)) {
        header.setOpsetImport(i, OperatorSetIdProto.newBuilder().setDomain(d).setVersion(version));
        return;
      }
    }
    header.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(d).setVersion(version));
  }

  private static String normalizeDomain(String domain) {
    return "ai.onnx".equals(domain) ? DEFAULT_DOMAIN : domain;
  }

  /** metadata_props as an ordered map. */
  public Map<String, String> metadata() {
    Map<String, String> m = new LinkedHashMap<>();
    for (StringStringEntryProto e : header.getMetadataPropsList()) {
      m.put(e.getKey(), e.getValue());
    }
    return Collections.unmodifiableMap(m);
  }

  /** Sets one metadata_props entry, replacing any with the same key. */
  public void putMetadata(String key, String value) {
    for (int i = 0; i < header.getMetadataPropsCount(); i++) {
      if (header.getMetadataProps(i).getKey().equals(key)) {
        header.setMetadataProps(i, StringStringEntryProto.newBuilder().setKey(key).setValue(value));
        return;
      }
    }
    header.addMetadataProps(StringStringEntryProto.newBuilder().setKey(key).setValue(value));
  }

  /** Removes the metadata_props entry with this key, if there is one. */
  public void removeMetadata(String key) {
    for (int i = header.getMetadataPropsCount() - 1; i >= 0; i--) {
      if (header.getMetadataProps(i).getKey().equals(key)) {
        header.removeMetadataProps(i);
      }
    }
  }

  /** The values of an initializer (any numeric type) as floats. */
  public float[] floats(String initializer) {
    return TensorCodec.toFloats(requireInitializer(initializer), externalData);
  }

  public TensorProto requireInitializer(String name) {
    return graph
        .initializer(name)
        .orElseThrow(() -> new IllegalArgumentException("no initializer named '" + name + "'"));
  }

  /** The whole model as one message; external tensors keep their references. */
  public ModelProto toProto() {
    return header.clone().setGraph(graph.toProto()).build();
  }

  /** An independent copy that shares only the (read-only) external data files. */
  public OnnxModel copy() {
    return new OnnxModel(toProto(), externalData, source);
  }
}
