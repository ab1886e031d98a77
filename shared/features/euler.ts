/**
 * The six model features and the quaternion-to-euler conversion the original workshop used
 * (the common ROS-style formula, pitch clamped to [-1, 1] before asin).
 */

/** Feature channels in model order: roll, pitch, yaw (from the IMU quaternion), then three raw sensors. */
export const FEATURE_NAMES = ['roll', 'pitch', 'yaw', 'wind_speed_rps', 'rps', 'voltage'] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];
/** Number of feature channels (6). */
export const FEATURE_COUNT = FEATURE_NAMES.length;

/** Converts a unit quaternion to [roll, pitch, yaw] in radians, exactly as the original preprocessing did. */
export function eulerFromQuaternion(qx: number, qy: number, qz: number, qw: number): [number, number, number] {
  return [rollOf(qx, qy, qz, qw), pitchOf(qx, qy, qz, qw), yawOf(qx, qy, qz, qw)];
}

/** Roll (rotation about x) in radians. */
export function rollOf(x: number, y: number, z: number, w: number): number {
  return Math.atan2(2.0 * (w * x + y * z), 1.0 - 2.0 * (x * x + y * y));
}

/** Pitch (rotation about y) in radians; the sine is clamped so a slightly non-unit quaternion gives no NaN. */
export function pitchOf(x: number, y: number, z: number, w: number): number {
  let t = 2.0 * (w * y - z * x);
  t = t > 1.0 ? 1.0 : t;
  t = t < -1.0 ? -1.0 : t;
  return Math.asin(t);
}

/** Yaw (rotation about z) in radians. */
export function yawOf(x: number, y: number, z: number, w: number): number {
  return Math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z));
}
