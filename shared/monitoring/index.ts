/** The monitoring's public API: captured windows, the drift test, the report, the cloud readers. */
export * from './captured-windows';
export * from './drift';
export * from './report';
export * from './field-data-reader';
export * from './alarm-labels';
export * from './field-training-set';
export * from './field-retraining';
export * from './model-candidate';
