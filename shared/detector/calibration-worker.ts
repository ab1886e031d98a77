/**
 * Worker thread of calibration-prefetch.ts: simulates (or reads) the first calibration farm as soon as it
 * starts, cuts its windows and the next farm's when the training statistics arrive, and when the model
 * arrives scores them, then prepares and scores the other farms it was asked for one at a time
 * (calibration-data.ts). Replies `scored` (errors, variation, states and series, transferred) or `error` (the message of
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

/**
 * Farms whose windows are cut before the model arrives (while the main thread trains): the others are
 * prepared and scored one at a time afterwards. Two keeps the worker busy during training at the memory of
 * two farms' windows (about 270 MB each for the default farms).
 */
const PREPARED_CHUNKS = 2;

let failure: string | null = null;
let firstFrames: FrameColumns | null = null;
let ready: FarmWindows[] = [];
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
        ready = [calibrationChunkWindows(firstFrames!, request.stats, request.params)];
        firstFrames = null;
        for (let k = 1; k < Math.min(PREPARED_CHUNKS, calibrationChunkCount(source)); k++) ready.push(calibrationChunkWindows(calibrationFrames(source, k), request.stats, request.params));
        return;
      }
      if (!prepared || ready.length === 0) throw new Error('calibration worker: the model arrived before the statistics');
      await initBackend(request.backend);
      const model = await modelFromFiles({ modelJson: request.modelJson, weights: Buffer.from(request.weights) }, 'calibration model');
      const parts: ScoredCalibration[] = [];
      try {
        for (let k = 0; k < Math.min(request.chunks, calibrationChunkCount(source)); k++) {
          const fw = ready.shift() ?? calibrationChunkWindows(calibrationFrames(source, k), prepared.stats, prepared.params);
          parts.push(scoreCalibrationChunk(model, fw, k, request.scoring));
        }
      } finally {
        model.dispose();
        ready = [];
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
