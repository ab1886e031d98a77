/** The feature pipeline's public API: quaternion -> euler, wavelet denoising, normalisation, windows. */
export * from './euler';
export * from './params';
export * from './extract';
export * from './wavelet';
export * from './denoise';
export * from './statistics';
export * from './batch';
export * from './streaming';
export * from './npy';
export * from './farm';
export * from './original-device';
