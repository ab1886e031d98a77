/**
 * Nacelle orientation maths: unit quaternion from roll/pitch/yaw (Z-Y-X, the convention of the original's
 * euler conversion) and back.
 */

/** Quaternion components in the CSV's order (w, x, y, z). */
export interface Quaternion {
  qw: number;
  qx: number;
  qy: number;
  qz: number;
}

/** Unit quaternion of the rotation yaw (about z), then pitch (about y), then roll (about x). */
export function quaternionFromEuler(roll: number, pitch: number, yaw: number): Quaternion {
  const cr = Math.cos(roll * 0.5);
  const sr = Math.sin(roll * 0.5);
  const cp = Math.cos(pitch * 0.5);
  const sp = Math.sin(pitch * 0.5);
  const cy = Math.cos(yaw * 0.5);
  const sy = Math.sin(yaw * 0.5);
  return {
    qw: cr * cp * cy + sr * sp * sy,
    qx: sr * cp * cy - cr * sp * sy,
    qy: cr * sp * cy + sr * cp * sy,
    qz: cr * cp * sy - sr * sp * cy,
  };
}

/**
 * Roll, pitch and yaw (radians) of a quaternion given in the CSV's order (w, x, y, z), with the original's
 * formulas; pitch's asin argument is clamped so an all-zero quaternion (a dropped-out IMU) gives zeros.
 * The model's feature pipeline has its own copy (shared/features/euler.ts); this one serves the simulator's
 * tests and plots.
 */
export function rollPitchYaw(qw: number, qx: number, qy: number, qz: number): [roll: number, pitch: number, yaw: number] {
  const roll = Math.atan2(2 * (qw * qx + qy * qz), 1 - 2 * (qx * qx + qy * qy));
  const sinPitch = 2 * (qw * qy - qz * qx);
  const pitch = Math.asin(sinPitch > 1 ? 1 : sinPitch < -1 ? -1 : sinPitch);
  const yaw = Math.atan2(2 * (qw * qz + qx * qy), 1 - 2 * (qy * qy + qz * qz));
  return [roll, pitch, yaw];
}
