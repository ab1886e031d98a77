/**
 * Worker thread of calibration-prefetch.ts: simulates (or reads) the first calibration farm as soon as it
 * starts, cuts its windows when the training statistics arrive, and when the model arrives scores it, then
 * prepares and scores the other farms one at a time (calibration-data.ts), so that only one farm's windows
 * are held. Replies `scored` (errors, variation, states and series, transferred) or `error` (the message of
 * what failed, for the pipeline to throw at the evaluate step).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FarmWindows } from '../features/farm';
import type { PreprocessingParams } from '../features/params';
import type { FeatureStatistics } from '../features/statistics';
import type { FrameColumns } from '../turbine/schema';
import { initBackend } from './backend';
import { calibrationChunkCount, calibrationChunkWindows, calibrationFrames, type CalibrationSource, concatScored, scoreCalibrationChunk, type ScoredCalibration } from './calibration-data';
import type { CalibrationReply, CalibrationRequest } from './calibration-prefetch';
import { modelFromFiles } from './model-io';

const port = parentPort!;
const source = (workerData as { source: CalibrationSource }).source;

let failure: string | null = null;
let firstFrames: FrameColumns | null = null;
let firstWindows: FarmWindows | null = null;
let prepared: { stats: FeatureStatistics; params: PreprocessingParams } | null = null;
try {
  firstFrames = calibrationFrames(source, 0);
} catch (err) {
  failure = (err as Error).message;
}

const reply = (message: CalibrationReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

port.on('message', (request: CalibrationRequest) => {
  void (async () => {
    try {
      if (failure) throw new Error(failure);
      if (request.type === 'statistics') {
        prepared = { stats: request.stats, params: request.params };
        firstWindows = calibrationChunkWindows(firstFrames!, request.stats, request.params);
        firstFrames = null;
        return;
      }
      if (!prepared || !firstWindows) throw new Error('calibration worker: the model arrived before the statistics');
      await initBackend(request.backend);
      const model = await modelFromFiles({ modelJson: request.modelJson, weights: Buffer.from(request.weights) }, 'calibration model');
      let first: FarmWindows | null = firstWindows;
      firstWindows = null;
      const parts: ScoredCalibration[] = [];
      try {
        for (let k = 0; k < Math.min(request.chunks, calibrationChunkCount(source)); k++) {
          const fw = first ?? calibrationChunkWindows(calibrationFrames(source, k), prepared.stats, prepared.params);
          first = null; // only one farm's windows held at a time
          parts.push(scoreCalibrationChunk(model, fw, k, request.scoring));
        }
      } finally {
        model.dispose();
      }
      const scored = concatScored(parts);
      const buffers = [scored.groups, ...scored.errors, scored.variation, scored.states].flatMap((a) => (a ? [a.buffer as ArrayBuffer] : []));
      // Each buffer once: a transfer list that names one twice is refused.
      reply({ type: 'scored', scored }, [...new Set(buffers)]);
    } catch (err) {
      // The first failure answers every later request too.
      failure ??= (err as Error).message;
      reply({ type: 'error', message: failure });
    }
  })();
});
