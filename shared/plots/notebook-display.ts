/**
 * Shows a figure in a notebook cell (tslab kernel). A person gets an interactive Plotly chart; the output
 * carries the Plotly MIME bundle (rendered natively by JupyterLab's plotly extension and VS Code) and an
 * HTML fallback that loads plotly.js once per kernel from the installed package, so it works offline.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Figure, figureTitle, toPlainJson } from './figure';

const PLOTLY_MIME = 'application/vnd.plotly.v1+json';
let plotlyInjected = false;

export type DisplayBundle = { data: Record<string, unknown>; metadata: Record<string, unknown>; transient: Record<string, unknown> };
export type WriteDisplayData = (bundle: DisplayBundle, update: boolean) => void;

/** The kernel's display writer when running inside tslab, else undefined (plain Node, tests). */
export function kernelDisplayWriter(): WriteDisplayData | undefined {
  try {
    // tslab keeps its writer on its internal jupyter module; the public API sends one MIME type only.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData: WriteDisplayData | null };
    return jupyter.lastWriteDisplayData ?? undefined;
  } catch {
    return undefined;
  }
}

/** HTML that draws the figure with plotly.js, embedding the library the first time only. */
export function figureHtml(fig: Figure, embedLibrary: boolean): string {
  const id = `plot-${randomBytes(6).toString('hex')}`;
  const json = JSON.stringify(toPlainJson(fig)).replace(/</g, '\\u003c');
  const lib = embedLibrary ? `<script>${readFileSync(require.resolve('plotly.js-dist-min'), 'utf8')}</script>` : '';
  return `${lib}<div id="${id}" style="width:100%"></div><script>(function(){var f=${json};` +
    `if(window.Plotly){window.Plotly.newPlot("${id}",f.data,f.layout,Object.assign({responsive:true},f.config||{}));}` +
    `else{document.getElementById("${id}").textContent="plotly.js did not load: re-run the cell (the notebook may be untrusted).";}})();</script>`;
}

/** Displays a figure in the current notebook cell; outside a kernel it prints a one-line summary. */
export function show(fig: Figure): void {
  const write = kernelDisplayWriter();
  const summary = `[figure] ${figureTitle(fig)}: ${fig.data.length} trace(s)`;
  if (!write) {
    console.log(summary);
    return;
  }
  const html = figureHtml(fig, !plotlyInjected);
  plotlyInjected = true;
  write({ data: { [PLOTLY_MIME]: toPlainJson(fig), 'text/html': html, 'text/plain': summary }, metadata: {}, transient: {} }, false);
}
