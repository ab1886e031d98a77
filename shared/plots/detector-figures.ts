/**
 * Figures of Lab 02 (detector training and evaluation), as plain Plotly JSON: learning curves, a window
 * and its reconstruction, error distributions against thresholds, ROC curves and detection timelines.
 */
import type { FaultLabel } from '../turbine/faults';
import type { EpochLog } from '../detector/training';
import { expectedError, type OperatingState } from '../detector/conditioning';
import type { Thresholds } from '../detector/thresholds';
import type { Figure, Trace } from './figure';

const FEATURES = ['roll', 'pitch', 'yaw', 'wind_speed_rps', 'rps', 'voltage'];

/** Training and validation loss per epoch. */
export function learningCurveFigure(curve: readonly EpochLog[], title = 'Learning curve'): Figure {
  const x = curve.map((e) => e.epoch);
  return {
    data: [
      { type: 'scatter', mode: 'lines+markers', name: 'training loss (MSE)', x, y: curve.map((e) => e.loss) },
      { type: 'scatter', mode: 'lines+markers', name: 'validation loss (MSE)', x, y: curve.map((e) => e.valLoss) },
    ],
    layout: { title: { text: title }, xaxis: { title: { text: 'epoch' } }, yaxis: { title: { text: 'mean squared error (z-score units)' } }, height: 380 },
  };
}

/** One window (6 features x 100 steps) and its reconstruction, a panel per feature. */
export function reconstructionFigure(input: ArrayLike<number>, output: ArrayLike<number>, title: string): Figure {
  const data: Trace[] = [];
  const steps = Array.from({ length: 100 }, (_, k) => k);
  FEATURES.forEach((name, f) => {
    const axis = f === 0 ? '' : String(f + 1);
    const slice = (a: ArrayLike<number>) => Array.from({ length: 100 }, (_, k) => a[f * 100 + k]);
    data.push({ type: 'scatter', mode: 'lines', name: 'input', x: steps, y: slice(input), xaxis: `x${axis}`, yaxis: `y${axis}`, line: { color: '#1f77b4' }, showlegend: f === 0 });
    data.push({ type: 'scatter', mode: 'lines', name: 'reconstruction', x: steps, y: slice(output), xaxis: `x${axis}`, yaxis: `y${axis}`, line: { color: '#d62728', dash: 'dot' }, showlegend: f === 0 });
  });
  return {
    data,
    layout: {
      title: { text: title },
      grid: { rows: 2, columns: 3, pattern: 'independent' },
      annotations: FEATURES.map((name, f) => ({ text: name, showarrow: false, xref: `x${f === 0 ? '' : f + 1} domain`, yref: `y${f === 0 ? '' : f + 1} domain`, x: 0.5, y: 1.12 })),
      height: 480,
    },
  };
}

/**
 * Per-feature histograms of reconstruction error on normal windows and on windows inside faults, with the
 * default (budget) and the original (mean) thresholds as vertical lines. When the default thresholds are
 * conditioned on the operating state (pass the windows' states), a feature's threshold moves with the rotor
 * speed: it is drawn as a shaded band from its 5th to its 95th percentile over the windows.
 */
export function errorDistributionFigure(
  errors: Float32Array,
  positive: ArrayLike<number>,
  thresholds: Thresholds,
  original: Thresholds,
  title = 'Reconstruction error per feature',
  states: readonly OperatingState[] | null = null,
): Figure {
  const scale = thresholds.scale;
  if (scale && (!states || states.length !== errors.length / 6)) throw new Error('errorDistributionFigure: conditioned thresholds need one operating state per window');
  const data: Trace[] = [];
  const shapes: Array<Record<string, unknown>> = [];
  const count = errors.length / 6;
  FEATURES.forEach((name, f) => {
    const axis = f === 0 ? '' : String(f + 1);
    const normal: number[] = [];
    const fault: number[] = [];
    for (let i = 0; i < count; i++) (positive[i] ? fault : normal).push(errors[i * 6 + f]);
    const common = { type: 'histogram' as const, xaxis: `x${axis}`, yaxis: `y${axis}`, histnorm: 'probability', opacity: 0.6, nbinsx: 60 };
    data.push({ ...common, name: 'normal windows', x: normal, marker: { color: '#1f77b4' }, showlegend: f === 0 });
    data.push({ ...common, name: 'windows in a fault', x: fault, marker: { color: '#d62728' }, showlegend: f === 0 });
    const lines: Array<[number, string, string]> = [[original.values[f], 'gray', 'dash']];
    if (scale && states && scale.full[f]) {
      const effective = states.map((s) => thresholds.values[f] * expectedError(scale, 'full', f, s)).sort((a, b) => a - b);
      const [lo, hi] = [effective[Math.floor(0.05 * (effective.length - 1))], effective[Math.floor(0.95 * (effective.length - 1))]];
      shapes.push({ type: 'rect', xref: `x${axis}`, yref: `y${axis} domain`, x0: lo, x1: hi, y0: 0, y1: 1, fillcolor: 'black', opacity: 0.15, line: { width: 0 } });
    } else {
      lines.push([thresholds.values[f], 'black', 'solid']);
    }
    for (const [t, color, dash] of lines) {
      shapes.push({ type: 'line', xref: `x${axis}`, yref: `y${axis} domain`, x0: t, x1: t, y0: 0, y1: 1, line: { color, dash, width: 2 } });
    }
  });
  return {
    data,
    layout: {
      title: { text: `${title} (solid: default threshold${scale ? ', or shaded where it moves with rotor speed (5-95 %)' : ''}; dashed: original rule)` },
      barmode: 'overlay',
      grid: { rows: 2, columns: 3, pattern: 'independent' },
      shapes,
      annotations: FEATURES.map((name, f) => ({ text: name, showarrow: false, xref: `x${f === 0 ? '' : f + 1} domain`, yref: `y${f === 0 ? '' : f + 1} domain`, x: 0.5, y: 1.12 })),
      height: 520,
    },
  };
}

/** ROC curves of window scores. */
export function rocFigure(curves: ReadonlyArray<{ name: string; fpr: number[]; tpr: number[]; auc: number | null }>, title = 'ROC curve of the window score'): Figure {
  return {
    data: [
      ...curves.map((c): Trace => ({ type: 'scatter', mode: 'lines', name: `${c.name} (AUC ${c.auc === null ? 'n/a' : c.auc.toFixed(3)})`, x: c.fpr, y: c.tpr })),
      { type: 'scatter', mode: 'lines', name: 'chance', x: [0, 1], y: [0, 1], line: { dash: 'dot', color: 'gray' } },
    ],
    layout: { title: { text: title }, xaxis: { title: { text: 'false positive rate (windows)' }, range: [0, 1] }, yaxis: { title: { text: 'true positive rate (windows)' }, range: [0, 1] }, height: 420, width: 620 },
  };
}

/**
 * Window score over time for one turbine around a fault: the labelled interval shaded, the threshold (1)
 * as a line, debounced alarms as markers.
 */
export function timelineFigure(
  windows: { turbineId: ArrayLike<number>; timeMs: ArrayLike<number>; scores: ArrayLike<number>; alarms: ArrayLike<number> },
  label: FaultLabel,
  paddingS = 30,
): Figure {
  const start = Date.parse(label.start);
  const end = Date.parse(label.end);
  const x: number[] = [];
  const y: number[] = [];
  const ax: number[] = [];
  const ay: number[] = [];
  for (let i = 0; i < windows.scores.length; i++) {
    if (windows.turbineId[i] !== label.turbineId) continue;
    const t = windows.timeMs[i];
    if (t < start - paddingS * 1000 || t > end + paddingS * 1000) continue;
    const s = (t - start) / 1000;
    x.push(s);
    y.push(windows.scores[i]);
    if (windows.alarms[i]) {
      ax.push(s);
      ay.push(windows.scores[i]);
    }
  }
  return {
    data: [
      { type: 'scatter', mode: 'lines', name: 'window score (max error / threshold)', x, y },
      { type: 'scatter', mode: 'markers', name: 'alarm', x: ax, y: ay, marker: { color: '#d62728', size: 6 } },
    ],
    layout: {
      title: { text: `Turbine ${label.turbineId}: ${label.kind} (${label.severity})` },
      xaxis: { title: { text: 'seconds from fault start' } },
      yaxis: { title: { text: 'score' }, type: 'log' },
      shapes: [
        { type: 'rect', xref: 'x', yref: 'paper', x0: 0, x1: (end - start) / 1000, y0: 0, y1: 1, fillcolor: 'rgba(214,39,40,0.12)', line: { width: 0 } },
        { type: 'line', xref: 'paper', yref: 'y', x0: 0, x1: 1, y0: 1, y1: 1, line: { color: 'black', dash: 'dash' } },
      ],
      height: 320,
    },
  };
}
