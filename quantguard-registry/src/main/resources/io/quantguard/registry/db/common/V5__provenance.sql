-- How a version was made, as the model's metadata records it (QuantizationProvenance as JSON:
-- recipe, calibration fingerprint and scheme, tool version, the calibration session and the
-- environment it was quantized in); null for a model QuantGuard did not quantize, and for rows
-- registered before this column existed (their recipe columns still describe them).
--
-- From here on onnx_runtime, java_version, os and cpu hold where the model was *quantized* (from
-- the provenance; '' when the model does not say), no longer the registering process's.
ALTER TABLE artifact_version ADD COLUMN provenance TEXT;
