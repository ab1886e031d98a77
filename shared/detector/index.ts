/** The detector's public API: models, training, thresholds, scoring, evaluation, model directory, pipeline. */
export * from './backend';
export * from './models';
export * from './windows';
export * from './training';
export * from './scoring';
export * from './thresholds';
export * from './window-score';
export * from './evaluation';
export * from './report';
export * from './model-io';
export * from './model-dir';
export * from './detector';
export * from './pipeline';
export * from './lab-data';
