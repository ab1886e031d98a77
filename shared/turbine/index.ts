/** The turbine simulator's public API: schema, simulator, farm, faults, frame helpers and CSV files. */
export * from './schema';
export * from './event-time';
export * from './faults';
export * from './frames';
export * from './orientation';
export * from './random';
export * from './simulator';
export * from './farm';
export * from './csv';
export * from './labels';
