/** The detector's public API: models, training, thresholds, scoring, evaluation, model directory, pipeline. */
export * from './backend';
export * from './models';
export * from './windows';
export * from './training';
export * from './scoring';
export * from './thresholds';
export * from './evaluation';
export * from './report';
export * from './model-io';
export * from './model-dir';
export * from './detector';
export * from './model-registry';
export * from './training-data';
export * from './threshold-fitting';
export * from './pipeline';
export * from './pipeline-log';
export * from './lab-data';
