/** The edge agent: the public API of shared/edge (see README.md). */
export * from './model-package';
export * from './inference-engine';
export * from './tfjs-engine';
export * from './onnx-reader';
export * from './model-manager';
export * from './frame-input';
export * from './scoring-runtime';
export * from './capture';
export * from './agent-state';
export * from './device-config';
export * from './device-connection';
export * from './ota';
export * from './package-verifier';
export * from './agent';
