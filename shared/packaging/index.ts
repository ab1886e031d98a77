/** Compile (tfjs -> ONNX), package, sign and verify models: the public API of shared/packaging. */
export * from './errors';
export * from './semver';
export * from './manifest';
export * from './signing-key';
export * from './tar-archive';
export * from './package-model';
export * from './verify-package';
export * from './onnx/export';
export * from './onnx/runtime';
export { ONNX_IR_VERSION, ONNX_OPSET } from './onnx/onnx-proto';
export * from './onnx/equivalence';
