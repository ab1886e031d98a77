/**
 * Nacelle orientation maths: unit quaternion from roll/pitch/yaw (Z-Y-X, the inverse of the original's
 * euler conversion, which lives in shared/features/euler.ts).
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
