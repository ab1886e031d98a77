/** Log lines for the training pipeline's progress events (the CLI draws bars; labs and logs print these). */
import type { PipelineEvent } from './pipeline';

/** One log line for a pipeline event (steps and epochs; batches are for progress bars), or null. */
export function formatPipelineEvent(e: PipelineEvent): string | null {
  switch (e.type) {
    case 'step':
      return `${e.step}${e.cached ? ' (cached: inputs unchanged)' : ''} ...`;
    case 'stepDone':
      return `${e.step} done in ${e.seconds.toFixed(1)} s`;
    case 'epoch':
      return `epoch ${e.log.epoch}/${e.maxEpochs}: loss ${e.log.loss.toFixed(4)}, validation loss ${e.log.valLoss.toFixed(4)} (${e.log.seconds.toFixed(1)} s)`;
    default:
      return null;
  }
}
