/**
 * A Plotly figure as plain JSON: what every figure builder returns, what notebooks display interactively
 * and what `npm run plots` renders to PNG. Kept as data so builders stay pure and testable.
 */

/** One Plotly trace; only the fields the builders use are typed, the rest pass through. */
export interface Trace {
  type: 'scatter' | 'scattergl' | 'histogram' | 'heatmap' | 'bar' | 'box';
  name?: string;
  x?: ArrayLike<number> | string[];
  y?: ArrayLike<number> | string[];
  z?: number[][];
  mode?: 'lines' | 'markers' | 'lines+markers';
  xaxis?: string;
  yaxis?: string;
  [key: string]: unknown;
}

/** A figure: traces, layout and config, as Plotly.newPlot takes them. */
export interface Figure {
  data: Trace[];
  layout: Record<string, unknown> & { title?: { text: string } | string; width?: number; height?: number };
  config?: Record<string, unknown>;
}

/** Default size of exported images, in CSS pixels. */
export const DEFAULT_SIZE = { width: 1000, height: 500 };

/** The title text of a figure, for alt texts and plain-text fallbacks. */
export function figureTitle(fig: Figure): string {
  const t = fig.layout.title;
  return typeof t === 'string' ? t : t?.text ?? 'figure';
}

/** 6 significant digits: far below a pixel, and it keeps a notebook's figure JSON about half the size. */
const roundForPlot = (x: number): number => (Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(6)) : x);

/** Converts typed arrays in traces to plain arrays (rounded for display), so the figure serialises as Plotly expects. */
export function toPlainJson(fig: Figure): Figure {
  const plain = (v: unknown): unknown => {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>, roundForPlot);
    if (Array.isArray(v)) return v.map(plain);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    return v;
  };
  return plain(fig) as Figure;
}
