/**
 * Figure builders for Lab 01 (data visualisation) and the images in imgs/: raw sensors, euler angles,
 * raw against denoised, distributions, correlations, model windows and a fault beside normal data.
 * Pure: arrays in, Plotly JSON out.
 */
import type { FrameColumns, NumericColumn } from '../turbine/schema';
import { FRAME_PERIOD_MS } from '../turbine/schema';
import type { Figure, Trace } from './figure';

/** Seconds since the first frame, for x axes (eventTime strings stay in the data for hover). */
export function secondsAxis(length: number, periodMs = FRAME_PERIOD_MS): Float64Array {
  const t = new Float64Array(length);
  for (let i = 0; i < length; i++) t[i] = (i * periodMs) / 1000;
  return t;
}

/** Keeps every k-th point so a figure stays light (Plotly is slow beyond ~50k points per trace). */
export function thin(values: ArrayLike<number>, maxPoints: number): Float64Array {
  const step = Math.max(1, Math.ceil(values.length / maxPoints));
  const out = new Float64Array(Math.ceil(values.length / step));
  for (let i = 0, j = 0; i < values.length; i += step, j++) out[j] = values[i];
  return out;
}

/** Stacked line charts sharing one time axis, one panel per series. */
export function stackedSeriesFigure(title: string, names: readonly string[], series: ArrayLike<number>[], opts: { maxPoints?: number; units?: string[] } = {}): Figure {
  if (names.length !== series.length) throw new Error(`stackedSeriesFigure: ${names.length} names for ${series.length} series`);
  const maxPoints = opts.maxPoints ?? 4000;
  const n = names.length;
  const data: Trace[] = names.map((name, i) => {
    const t = thin(secondsAxis(series[i].length), maxPoints);
    return { type: 'scatter', mode: 'lines', name, x: t, y: thin(series[i], maxPoints), xaxis: 'x', yaxis: i === 0 ? 'y' : `y${i + 1}`, line: { width: 1 } };
  });
  const layout: Figure['layout'] = { title: { text: title }, height: Math.max(300, 140 * n), showlegend: false, margin: { l: 70, r: 20, t: 50, b: 40 } };
  const gap = 0.03;
  const h = (1 - gap * (n - 1)) / n;
  names.forEach((name, i) => {
    const top = 1 - i * (h + gap);
    layout[i === 0 ? 'yaxis' : `yaxis${i + 1}`] = { domain: [top - h, top], title: { text: opts.units?.[i] ? `${name} (${opts.units[i]})` : name, font: { size: 11 } } };
  });
  layout.xaxis = { title: { text: 'time (s)' }, anchor: n > 1 ? `y${n}` : 'y' };
  return { data, layout };
}

/** The raw sensor columns a participant looks at first. */
export const RAW_SENSOR_PANELS: { column: NumericColumn; unit: string }[] = [
  { column: 'wind_speed_rps', unit: 'rps' },
  { column: 'rps', unit: 'rps' },
  { column: 'voltage', unit: 'V' },
  { column: 'qx', unit: '' },
  { column: 'gx', unit: 'rad/s' },
  { column: 'ax', unit: 'g' },
  { column: 'gearboxtemp', unit: '°C' },
];

/** Raw sensor readings of one turbine over time. */
export function rawSensorsFigure(frames: FrameColumns, title = 'Raw sensor readings'): Figure {
  return stackedSeriesFigure(
    title,
    RAW_SENSOR_PANELS.map((p) => p.column),
    RAW_SENSOR_PANELS.map((p) => frames.columns[p.column]),
    { units: RAW_SENSOR_PANELS.map((p) => p.unit) },
  );
}

/** One feature before and after denoising, overlaid. */
export function rawVsDenoisedFigure(name: string, raw: ArrayLike<number>, denoised: ArrayLike<number>, maxPoints = 4000): Figure {
  const t = thin(secondsAxis(raw.length), maxPoints);
  return {
    data: [
      { type: 'scatter', mode: 'lines', name: 'raw', x: t, y: thin(raw, maxPoints), line: { width: 1, color: 'rgba(120,120,120,0.6)' } },
      { type: 'scatter', mode: 'lines', name: 'denoised (db6)', x: t, y: thin(denoised, maxPoints), line: { width: 2, color: '#d62728' } },
    ],
    layout: { title: { text: `${name}: raw and wavelet-denoised` }, xaxis: { title: { text: 'time (s)' } }, yaxis: { title: { text: name } }, height: 350 },
  };
}

/** Histograms of each feature, one small panel per feature. */
export function distributionsFigure(names: readonly string[], series: ArrayLike<number>[], title = 'Feature distributions'): Figure {
  const cols = 3;
  const rows = Math.ceil(names.length / cols);
  const data: Trace[] = names.map((name, i) => ({
    type: 'histogram',
    name,
    x: thin(series[i], 20000),
    nbinsx: 60,
    xaxis: i === 0 ? 'x' : `x${i + 1}`,
    yaxis: i === 0 ? 'y' : `y${i + 1}`,
  }));
  const layout: Figure['layout'] = { title: { text: title }, showlegend: false, height: 260 * rows, grid: { rows, columns: cols, pattern: 'independent' } };
  names.forEach((name, i) => {
    layout[i === 0 ? 'xaxis' : `xaxis${i + 1}`] = { title: { text: name, font: { size: 11 } } };
  });
  return { data, layout };
}

/** Pearson correlation matrix of equally long series. */
export function correlationMatrix(series: ArrayLike<number>[]): number[][] {
  const n = series[0]?.length ?? 0;
  const means = series.map((s) => {
    let m = 0;
    for (let i = 0; i < n; i++) m += s[i];
    return m / n;
  });
  return series.map((a, i) =>
    series.map((b, j) => {
      let sab = 0;
      let saa = 0;
      let sbb = 0;
      for (let k = 0; k < n; k++) {
        const da = a[k] - means[i];
        const db = b[k] - means[j];
        sab += da * db;
        saa += da * da;
        sbb += db * db;
      }
      return saa === 0 || sbb === 0 ? 0 : sab / Math.sqrt(saa * sbb);
    }),
  );
}

/** Heatmap of the correlation between features. */
export function correlationFigure(names: readonly string[], series: ArrayLike<number>[], title = 'Correlation between features'): Figure {
  const z = correlationMatrix(series);
  return {
    data: [{ type: 'heatmap', x: [...names], y: [...names], z, zmin: -1, zmax: 1, colorscale: 'RdBu', reversescale: true, text: z.map((r) => r.map((v) => v.toFixed(2))), texttemplate: '%{text}' }],
    layout: { title: { text: title }, width: 650, height: 550, yaxis: { autorange: 'reversed' } },
  };
}

/**
 * One model input window (6 x 10 x 10, feature-major) as six 10x10 heatmaps: what the autoencoder sees.
 * `offset` picks the window inside a flat (N, 6, 10, 10) array.
 */
export function windowFigure(names: readonly string[], windows: ArrayLike<number>, offset = 0, title = 'One model input window (6 x 10 x 10)'): Figure {
  const side = 10;
  const data: Trace[] = names.map((name, f) => {
    const z: number[][] = [];
    for (let r = 0; r < side; r++) {
      const row: number[] = [];
      for (let c = 0; c < side; c++) row.push(windows[offset + f * side * side + r * side + c]);
      z.push(row);
    }
    return { type: 'heatmap', name, z, zmin: -3, zmax: 3, colorscale: 'RdBu', reversescale: true, showscale: f === names.length - 1, xaxis: f === 0 ? 'x' : `x${f + 1}`, yaxis: f === 0 ? 'y' : `y${f + 1}` };
  });
  const layout: Figure['layout'] = { title: { text: title }, height: 330, width: 1100, grid: { rows: 1, columns: names.length, pattern: 'independent' } };
  names.forEach((name, f) => {
    layout[f === 0 ? 'xaxis' : `xaxis${f + 1}`] = { title: { text: name, font: { size: 11 } }, showticklabels: false };
    layout[f === 0 ? 'yaxis' : `yaxis${f + 1}`] = { autorange: 'reversed', showticklabels: false };
  });
  return { data, layout };
}

/** A feature of a faulty stretch beside the same feature of a normal stretch, with the fault shaded. */
export function faultComparisonFigure(
  name: string,
  normal: ArrayLike<number>,
  faulty: ArrayLike<number>,
  fault: { kind: string; startIndex: number; endIndex: number },
): Figure {
  const t = secondsAxis(Math.max(normal.length, faulty.length));
  const s = (i: number) => (i * FRAME_PERIOD_MS) / 1000;
  return {
    data: [
      { type: 'scatter', mode: 'lines', name: `with ${fault.kind}`, x: t.subarray(0, faulty.length), y: faulty, line: { width: 1, color: '#d62728' } },
      // Drawn last so the normal trace stays visible where the fault hides nothing.
      { type: 'scatter', mode: 'lines', name: 'normal (same turbine, same seed, no fault)', x: t.subarray(0, normal.length), y: normal, line: { width: 1, color: '#1f77b4' } },
    ],
    layout: {
      title: { text: `${name}: normal operation and ${fault.kind}` },
      xaxis: { title: { text: 'time (s)' } },
      yaxis: { title: { text: name } },
      height: 380,
      legend: { orientation: 'h', y: -0.25 },
      shapes: [{ type: 'rect', xref: 'x', yref: 'paper', x0: s(fault.startIndex), x1: s(fault.endIndex), y0: 0, y1: 1, fillcolor: 'rgba(214,39,40,0.12)', line: { width: 0 } }],
    },
  };
}
