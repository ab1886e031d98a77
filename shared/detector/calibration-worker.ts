/**
 * Worker thread of calibration-prefetch.ts: simulates (or reads) the calibration turbines as soon as it
 * starts, cuts their windows when the training statistics arrive, and runs the trained model's forward
 * passes over them when the model arrives. Replies `scored` (the windows and errors, transferred) or
 * `error` (the message of what failed, for the pipeline to throw at the evaluate step).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type FarmWindows, farmWindows, type TurbineSeries, turbineSeries } from '../features/farm';
import { readFramesCsv } from '../turbine/csv';
import { simulateFarm } from '../turbine/farm';
import { initBackend } from './backend';
import type { CalibrationRequest, CalibrationReply, CalibrationSource } from './calibration-prefetch';
import { modelFromFiles } from './model-io';
import { reconstructionErrorsOver } from './scoring';

const port = parentPort!;
const source = (workerData as { source: CalibrationSource }).source;

let failure: string | null = null;
let series: TurbineSeries[] | null = null;
let frameCount = 0;
let windows: FarmWindows | null = null;
try {
  const frames = 'path' in source ? readFramesCsv(source.path) : simulateFarm(source.farm).frames;
  frameCount = frames.length;
  series = turbineSeries(frames);
} catch (err) {
  failure = (err as Error).message;
}

const reply = (message: CalibrationReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

port.on('message', (request: CalibrationRequest) => {
  void (async () => {
    try {
      if (failure) throw new Error(failure);
      if (request.type === 'statistics') {
        windows = farmWindows(series!, request.stats, request.params);
        series = null;
        if (windows.count === 0) throw new Error(`calibration data: no complete window (${request.params.windowLength} frames) in ${frameCount} frames`);
        return;
      }
      if (!windows) throw new Error('calibration worker: the model arrived before the statistics');
      await initBackend(request.backend);
      const model = await modelFromFiles({ modelJson: request.modelJson, weights: Buffer.from(request.weights) }, 'calibration model');
      const set = { windows: windows.windows, count: windows.count };
      let errors: Float32Array[];
      try {
        errors = reconstructionErrorsOver(model, set, request.spans);
      } finally {
        model.dispose();
      }
      const w = windows;
      windows = null;
      reply({ type: 'scored', windows: w.windows, count: w.count, turbineId: w.turbineId, errors }, [w.windows.buffer as ArrayBuffer, w.turbineId.buffer as ArrayBuffer, ...errors.map((e) => e.buffer as ArrayBuffer)]);
    } catch (err) {
      // The first failure answers every later request too.
      failure ??= (err as Error).message;
      reply({ type: 'error', message: failure });
    }
  })();
});
