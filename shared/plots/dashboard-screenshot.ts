/**
 * The README's dashboard picture: a real 5-turbine farm on the local cloud with the trained detector,
 * a vibration fault on turbine 3 detected and braked, photographed in headless Chromium.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium } from '../browser/launch-chromium';
import type { FindChromiumOptions } from '../browser/find-chromium';
import { startFleet } from '../fleet/fleet';
import { trainedFleetPackages } from '../fleet/trained-packages';

/** Starts a farm, shows turbine 3's alarm in the dashboard and writes a PNG of the page to out. */
export async function screenshotDashboard(out: string, browserOptions: FindChromiumOptions = {}, log: (line: string) => void = () => undefined): Promise<void> {
  const model = await trainedFleetPackages(undefined, log);
  const dir = mkdtempSync(join(tmpdir(), 'dashboard-shot-'));
  const fleet = await startFleet({ dir, packagePath: model.packages['1.0.0'], publicKeyPem: model.publicKeyPem, turbines: 5, heartbeatSeconds: 2, dashboardPort: 0 });
  const browser = await launchChromium(browserOptions);
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(fleet.url);
    // A page expression (a string: this file is compiled without the DOM library).
    await page.waitForFunction("[...document.querySelectorAll('#grid li .version')].filter((e) => e.textContent.trim() === 'v1.0.0').length === 5", undefined, { timeout: 120_000 });
    await page.getByRole('button', { name: 'Details of turbine 3' }).click();
    await page.waitForSelector('#detail-body:not([hidden])');
    log('injecting a severe vibration fault on turbine 3');
    await page.getByRole('button', { name: 'Vib', exact: true }).click();
    await page.waitForSelector('#grid li[data-index="3"][data-alarming="true"]', { timeout: 60_000 });
    // Let the feature plots show a few seconds of the fault and the brake.
    await page.waitForTimeout(4000);
    await page.screenshot({ path: out, fullPage: true });
  } finally {
    await browser.close();
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
