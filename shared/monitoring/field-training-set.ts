/**
 * Which captured field windows may join the training set (pure). A window is normal when it raised no
 * alarm or when an operator rejected the alarm it belongs to (a false alarm is exactly the normal data the
 * model lacked); windows around a confirmed alarm are faults, kept for evaluation only; an alarm nobody
 * labelled is left out of both. Each device's normal windows split by time: the first part trains, the next
 * joins the held-out windows the thresholds are fitted on, and the last is the held-out field data both
 * models are compared on (never seen by the new model's training or thresholds).
 */
import type { WindowSet } from '../detector/windows';
import type { FeatureStatistics } from '../features/statistics';
import type { CapturedWindow } from './captured-windows';
import type { AlarmLabel } from './alarm-labels';

/** Field windows sorted for training and comparison. */
export interface FieldTrainingSet {
  train: WindowSet;
  /** Normal windows after the training part: thresholds are fitted on them. */
  tune: WindowSet & { device: Int32Array };
  /** Last normal windows of every device, with the device's index (debouncing never spans two devices). */
  heldOut: WindowSet & { device: Int32Array };
  /** Windows around confirmed alarms. */
  faults: WindowSet;
  /** Unlabelled alarms left out. */
  unlabelledAlarms: number;
  devices: string[];
}

const pack = (ws: readonly CapturedWindow[], size: number): WindowSet => {
  const out = new Float32Array(ws.length * size);
  ws.forEach((w, k) => out.set(w.input, k * size));
  return { windows: out, count: ws.length };
};

/** Splits captured windows into field training, held-out and fault sets; see the file comment. */
export function fieldTrainingSet(windows: readonly CapturedWindow[], labels: readonly AlarmLabel[], split: { tune: number; heldOut: number } = { tune: 0.2, heldOut: 0.3 }): FieldTrainingSet {
  if (!(split.tune > 0 && split.heldOut > 0 && split.tune + split.heldOut < 1)) throw new Error(`tune and heldOut shares must be positive and sum to less than 1, got ${JSON.stringify(split)}`);
  if (windows.length === 0) throw new Error('no captured windows to retrain on');
  const size = windows[0].input.length;
  const bad = windows.find((w) => w.input.length !== size);
  if (bad) throw new Error(`captured record ${bad.record.captureId} has ${bad.input.length} input values, the others ${size}`);
  const key = (thing: string, id: string): string => `${thing}\u0000${id}`;
  const rejected = new Set(labels.filter((l) => l.decision === 'rejected').map((l) => key(l.thingName, l.captureId)));
  const faulty = new Set(labels.filter((l) => l.decision === 'confirmed').flatMap((l) => l.windows.map((w) => key(l.thingName, w.captureId))));
  const devices = [...new Set(windows.map((w) => w.thingName))].sort();
  const train: CapturedWindow[] = [];
  const tune: CapturedWindow[] = [];
  const tuneDevice: number[] = [];
  const heldOut: CapturedWindow[] = [];
  const device: number[] = [];
  const faults: CapturedWindow[] = [];
  let unlabelledAlarms = 0;
  devices.forEach((thing, d) => {
    const normal: CapturedWindow[] = [];
    for (const w of windows) {
      if (w.thingName !== thing) continue;
      const k = key(thing, w.record.captureId);
      if (faulty.has(k)) faults.push(w);
      else if (!w.record.alarm || rejected.has(k)) normal.push(w);
      else unlabelledAlarms++;
    }
    normal.sort((a, b) => a.time - b.time);
    const a = Math.floor(normal.length * (1 - split.tune - split.heldOut));
    const b = Math.floor(normal.length * (1 - split.heldOut));
    train.push(...normal.slice(0, a));
    tune.push(...normal.slice(a, b));
    heldOut.push(...normal.slice(b));
    for (let i = a; i < b; i++) tuneDevice.push(d);
    for (let i = b; i < normal.length; i++) device.push(d);
  });
  return { train: pack(train, size), tune: { ...pack(tune, size), device: Int32Array.from(tuneDevice) }, heldOut: { ...pack(heldOut, size), device: Int32Array.from(device) }, faults: pack(faults, size), unlabelledAlarms, devices };
}

/**
 * Windows normalised with one model's statistics re-expressed in another's: x' = (x std + mean - mean') / std'
 * per feature (feature-major windows), so field windows captured under the deployed model join a training
 * set prepared with freshly fitted statistics.
 */
export function renormaliseWindows(set: WindowSet, from: Pick<FeatureStatistics, 'mean' | 'std'>, to: Pick<FeatureStatistics, 'mean' | 'std'>): WindowSet {
  const features = from.mean.length;
  if (to.mean.length !== features || from.std.length !== features || to.std.length !== features) throw new Error('statistics of different feature counts');
  const size = set.count > 0 ? set.windows.length / set.count : 0;
  const steps = size / features;
  const out = new Float32Array(set.windows.length);
  for (let i = 0; i < set.count; i++) {
    for (let f = 0; f < features; f++) {
      const a = from.std[f] / to.std[f];
      const b = (from.mean[f] - to.mean[f]) / to.std[f];
      for (let s = i * size + f * steps, end = s + steps; s < end; s++) out[s] = set.windows[s] * a + b;
    }
  }
  return { windows: out, count: set.count };
}
