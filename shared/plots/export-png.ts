/**
 * Renders figures to PNG files with plotly.js in headless Chromium (found by shared/browser: a system
 * browser or the one shipped in an npm package; nothing is downloaded). Used by `npm run plots` to regenerate imgs/.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { launchChromium } from '../browser/launch-chromium';
import type { FindChromiumOptions } from '../browser/find-chromium';
import { DEFAULT_SIZE, Figure, toPlainJson } from './figure';

/** A figure and the PNG file it should become. */
export interface PngJob {
  figure: Figure;
  path: string;
  width?: number;
  height?: number;
}

/** Renders each figure to its PNG path in one browser session; calls onDone after each file. */
export async function exportPngs(jobs: PngJob[], onDone?: (job: PngJob) => void, browserOptions: FindChromiumOptions = {}): Promise<void> {
  const browser = await launchChromium(browserOptions);
  try {
    const page = await browser.newPage();
    await page.setContent('<html><body><div id="plot"></div></body></html>');
    await page.addScriptTag({ content: readFileSync(require.resolve('plotly.js-dist-min'), 'utf8') });
    for (const job of jobs) {
      const width = job.width ?? (job.figure.layout.width as number | undefined) ?? DEFAULT_SIZE.width;
      const height = job.height ?? (job.figure.layout.height as number | undefined) ?? DEFAULT_SIZE.height;
      const dataUrl = await page.evaluate(
        async ({ fig, width, height }) => {
          // Runs in the browser page; the project compiles without DOM types, hence the casts.
          const g = globalThis as unknown as { Plotly: any; document: { getElementById(id: string): unknown } }; // eslint-disable-line @typescript-eslint/no-explicit-any
          const Plotly = g.Plotly;
          const el = g.document.getElementById('plot');
          await Plotly.newPlot(el, fig.data, { ...fig.layout, width, height }, { staticPlot: true });
          const url: string = await Plotly.toImage(el, { format: 'png', width, height, scale: 1 });
          Plotly.purge(el);
          return url;
        },
        { fig: toPlainJson(job.figure), width, height },
      );
      mkdirSync(dirname(job.path), { recursive: true });
      writeFileSync(job.path, Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'));
      onDone?.(job);
    }
  } finally {
    await browser.close();
  }
}
