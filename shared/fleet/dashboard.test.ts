/**
 * The dashboard in a real headless browser, on a real 5-turbine farm (local cloud, provisioned devices,
 * one agent per turbine over worker threads) running a really trained detector: Vib on turbine 3 shows
 * turbine 3's alarm (and no other's), the brake engages and the Release button frees it, and each
 * turbine's model version reads 1.0.0 before and 1.1.0 after an IoT Job rollout during the run. The
 * operator confirms turbine 3's captured alarm with its button: one label stored in S3 with its windows;
 * the monitoring report's drift verdict is on the page.
 *
 * The first run trains the detector (trained-packages.ts, cached in .state/fleet-model).
 * DASHBOARD_ALARM_SECONDS (default 5, the bound) is how long the alarm may take to show.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { S3Client } from '@aws-sdk/client-s3';
import { captureBucketName } from '../cloud/capture/service';
import { cloudClientConfig, type LocalCloud } from '../cloud/local-cloud';
import { listObjectKeys, readObjectText } from '../monitoring/field-data-reader';
import type { AlarmLabel } from '../monitoring/alarm-labels';
import { tempDir, waitFor } from '../edge/agent-testing';
import { launchChromium } from '../browser/launch-chromium';
import { type Fleet, startFleet } from './fleet';
import { type TrainedPackages, trainedFleetPackages } from './trained-packages';

const ALARM_SECONDS = Number(process.env.DASHBOARD_ALARM_SECONDS ?? 5);
// Every other wait is for an event, with a limit generous enough for a busy 2-core machine: only the
// alarm's 5 s is a bound the issue sets.
const BUSY_MACHINE_MS = 120_000;
let fleet: Fleet;
let browser: Browser;
let page: Page;
let trained: TrainedPackages;
let cleanup: () => Promise<void> = async () => undefined;

before(async () => {
  trained = await trainedFleetPackages(undefined, (line) => console.log(`# ${line}`));
  console.log(`# trained packages ready in ${trained.seconds.toFixed(1)} s (${trained.trained ? 'trained now' : 'from the cache'})`);
  const tmp = await tempDir('fleet-dashboard-');
  cleanup = tmp.remove;
  fleet = await startFleet({ dir: tmp.dir, packagePath: trained.packages['1.0.0'], publicKeyPem: trained.publicKeyPem, turbines: 5, heartbeatSeconds: 2, dashboardPort: 0, captureSampleRate: 1 });
  browser = await launchChromium();
  page = await browser.newPage();
  // The alarm's delay is measured in the page, from the browser's dispatch of the click on Vib to the first
  // frame painted with turbine 3's tile alarming, so a slow test harness (playwright's actionability checks,
  // its polling) does not count as the dashboard's latency. Also noted: when the alarming view arrived.
  await page.addInitScript(`(() => {
    window.__vib = { clickedAt: null, receivedAt: null, shownAt: null };
    document.addEventListener('click', (e) => {
      if (window.__vib.clickedAt === null && e.target.closest && e.target.closest('button.fault[data-kind="vib"]')) window.__vib.clickedAt = Date.now();
    }, true);
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', (m) => { if (window.__vib.receivedAt === null && m.data.includes('"alarming":true')) window.__vib.receivedAt = Date.now(); });
      }
    };
    new MutationObserver((changes) => {
      if (window.__vib.shownAt !== null) return;
      if (changes.some((c) => c.target.dataset.index === '3' && c.target.dataset.alarming === 'true')) requestAnimationFrame(() => (window.__vib.shownAt ??= Date.now()));
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-alarming'] });
  })()`);
  await page.goto(fleet.url);
});

after(async () => {
  await browser?.close();
  await fleet?.stop();
  await cleanup();
});

const tile = (i: number): string => `#grid li[data-index="${i}"]`;
const versions = async (): Promise<string[]> => (await page.locator('#grid li .version').allTextContents()).map((t) => t.trim());
const textOf = async (selector: string): Promise<string> => (await page.textContent(selector)) ?? '';
/** Posts JSON to the dashboard's API as the page does. */
async function post(path: string, body: unknown): Promise<{ status: number; body: { error?: string } }> {
  const r = await fetch(new URL(path, fleet.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as { error?: string } };
}

test('the grid shows every turbine with its model version from the cloud', async () => {
  await waitFor(async () => (await page.locator('#grid li').count()) === 5, BUSY_MACHINE_MS, 'five tiles');
  await waitFor(async () => (await versions()).every((v) => v === 'v1.0.0'), BUSY_MACHINE_MS, 'every turbine to report model 1.0.0');
  assert.deepEqual(await versions(), ['v1.0.0', 'v1.0.0', 'v1.0.0', 'v1.0.0', 'v1.0.0']);
});

test('bad commands are refused with the reason and change nothing', async () => {
  const res = [await post('/api/turbines/3/fault', { kind: 'explode' }), await post('/api/turbines/9/fault', { kind: 'vib' }), await post('/api/wind', { rps: -2 })];
  for (const r of res) assert.equal(r.status, 400, JSON.stringify(r));
  assert.match(String(res[0].body.error), /kind must be equal to one of the allowed values/);
  assert.match(String(res[1].body.error), /index must be <= 4/);
  assert.match(String(res[2].body.error), /rps must be >= 0/);
  assert.equal(fleet.injections.length, 0);
  await assert.rejects(fleet.injectFault(7, 'vib'), /turbine must be an integer from 0 to 4, got 7/);
  await assert.rejects(fleet.injectFault(1, 'shake' as never), /unknown fault kind "shake"/);
  assert.equal(fleet.injections.length, 0);
});

test('Vib on turbine 3: its alarm shows (no other turbine alarms), the brake engages, Release frees it', async () => {
  await page.getByRole('button', { name: 'Details of turbine 3' }).click();
  await page.waitForSelector('#detail-body:not([hidden])', { timeout: BUSY_MACHINE_MS });
  await waitFor(async () => /Turbine 3 details/.test(await textOf('#detail-title')), BUSY_MACHINE_MS, "the detail view to show turbine 3");
  // The detector needs a full window of normal frames first; the farm has run for a while by now.
  for (let i = 0; i < 5; i++) assert.equal(await page.getAttribute(tile(i), 'data-alarming'), 'false', `turbine ${i} alarming before any fault`);
  await page.getByRole('button', { name: 'Vib', exact: true }).click();
  await page.waitForSelector(`${tile(3)}[data-alarming="true"]`, { timeout: BUSY_MACHINE_MS });
  type Vib = { clickedAt: number | null; receivedAt: number | null; shownAt: number | null };
  const vib = async (): Promise<Vib> => (await page.evaluate('window.__vib')) as Vib;
  await waitFor(async () => (await vib()).shownAt !== null, BUSY_MACHINE_MS, "the page to paint turbine 3's alarm");
  const { clickedAt, receivedAt, shownAt } = await vib();
  assert.ok(clickedAt !== null && shownAt !== null, 'the page saw the click on Vib');
  const shownAfter = (shownAt - clickedAt) / 1000;
  const rec = fleet.injections.find((r) => r.index === 3 && r.kind === 'vib');
  const after = (t: number | null | undefined): string => (t ? `+${t - clickedAt} ms` : '?');
  console.log(`# alarm on the dashboard ${shownAfter.toFixed(2)} s after the click: fault onset ${after(rec?.onsetAt)}, device alarm ${after(rec?.deviceAlarmAt)}, console ${after(rec?.cloudAlarmAt)}, page received ${after(receivedAt)} (detector delay ${rec?.detectorDelayS} simulated s)`);
  assert.ok(shownAfter <= ALARM_SECONDS, `turbine 3's alarm showed after ${shownAfter.toFixed(2)} s, more than ${ALARM_SECONDS} s`);
  const vibrationLight = async (): Promise<boolean> => {
    const lights = await Promise.all((await page.locator('#lights li[data-on="true"]').all()).map((l) => l.getAttribute('data-feature')));
    return lights.some((f) => f === 'roll' || f === 'pitch' || f === 'yaw');
  };
  await waitFor(vibrationLight, BUSY_MACHINE_MS, 'a vibration feature light (roll, pitch or yaw) to be on');

  await waitFor(async () => /brake engaged/.test(await textOf('#contingency')), BUSY_MACHINE_MS, 'the dashboard to show the brake engaged');
  await waitFor(async () => (await page.getAttribute(tile(3), 'data-engaged')) === 'true', BUSY_MACHINE_MS, "turbine 3's tile to show the brake");
  await waitFor(() => fleet.status().find((s) => s.index === 3)?.brake === true, BUSY_MACHINE_MS, 'the simulated rotor of turbine 3 to be braked');
  await waitFor(() => (fleet.status().find((s) => s.index === 3)?.rps ?? 1) < 0.5, BUSY_MACHINE_MS, 'the braked rotor to slow down');

  await page.getByRole('button', { name: 'Release' }).click();
  await waitFor(async () => /^normal/.test(await textOf('#contingency')), BUSY_MACHINE_MS, 'the dashboard to show the contingency released');
  await waitFor(() => fleet.status().find((s) => s.index === 3)?.brake === false, BUSY_MACHINE_MS, 'the brake of turbine 3 to be released');
  await waitFor(async () => (await page.getAttribute(tile(3), 'data-engaged')) === 'false', BUSY_MACHINE_MS, "turbine 3's tile to show the release");

  // No other turbine alarmed at any time: the cloud received alarms from turbine 3 only.
  for (const [thing, d] of fleet.console.devices) if (thing !== fleet.thingNames[3]) assert.equal(d.alarms, 0, `${thing} alarmed`);
  assert.ok((fleet.console.devices.get(fleet.thingNames[3])?.alarms ?? 0) > 0);
  const braked = async (): Promise<boolean> => (await page.locator('#alerts li').allTextContents()).some((a) => a.includes(fleet.thingNames[3]) && /rotor braked/.test(a));
  await waitFor(braked, BUSY_MACHINE_MS, "the alert feed to show turbine 3's rotor braked");
});

test("the operator confirms turbine 3's captured alarm with its button: stored once with its windows; the drift verdict is shown", async () => {
  // Every window is captured here; a batch of 50 reaches S3 within 25 s of the alarm.
  const confirm = page.getByRole('button', { name: /^Confirm fault: alarm scored at .*, score \d/ });
  let refreshedAt = 0;
  await waitFor(async () => {
    if ((await confirm.count()) > 0) return true;
    if (Date.now() - refreshedAt > 3000) {
      refreshedAt = Date.now();
      await page.getByRole('button', { name: 'Refresh alarms' }).click();
    }
    return false;
  }, 120_000, "turbine 3's captured alarms in the review table");
  const captureId = String(await confirm.first().getAttribute('data-action')).replace(/:confirmed$/, '');
  await confirm.first().click();
  await waitFor(async () => /^Stored: alarm scored at .* confirmed by operator, with \d+ captured windows$/.test(await textOf('#review-status')), 30_000, 'the stored label on the page');
  await waitFor(async () => (await page.locator('#review tbody td', { hasText: 'confirmed by operator' }).count()) === 1, 30_000, 'the row to show the decision');
  assert.equal(await page.locator(`#review button[data-action^="${captureId}:"]`).count(), 0, 'the labelled alarm has no buttons left');
  const focusedOn = String(await page.evaluate("document.activeElement && document.activeElement.closest('#review') ? 'review' : (document.activeElement ? document.activeElement.id : '')"));
  assert.ok(focusedOn === 'review' || focusedOn === 'refresh-alarms', `keyboard focus moves to the next decision, not lost (on "${focusedOn}")`);

  const s3 = new S3Client(cloudClientConfig(fleet.cloud as LocalCloud));
  try {
    const keys = await listObjectKeys(s3, captureBucketName(), ['labels/']);
    assert.equal(keys.length, 1, `one label stored: ${keys.join(', ')}`);
    assert.equal(keys[0], `labels/${fleet.thingNames[3]}/${captureId}.json`, 'the label of the alarm clicked');
    const label = JSON.parse(await readObjectText(s3, captureBucketName(), keys[0])) as AlarmLabel;
    assert.equal(label.decision, 'confirmed');
    assert.ok(label.windows.some((w) => w.captureId === label.captureId && w.alarm), 'the alarm window is among the stored windows');
  } finally {
    s3.destroy();
  }

  await page.getByRole('button', { name: 'Refresh report' }).click();
  await waitFor(async () => /^1\.0\.0: (stable|watch|drift|insufficient-data) \(/.test(await textOf('#monitoring-verdict')), 60_000, 'the monitoring verdict of 1.0.0');
  assert.ok((await page.locator('#monitoring tbody tr').count()) >= 2, 'the farm row and the turbines');
});

test('a rollout by IoT Job while the farm runs: every turbine reads 1.0.0 before and 1.1.0 after, no frame lost', async () => {
  assert.deepEqual(await versions(), ['v1.0.0', 'v1.0.0', 'v1.0.0', 'v1.0.0', 'v1.0.0']);
  const before = fleet.status().map((s) => s.produced);
  const rollout = await fleet.deployModel(trained.packages['1.1.0']);
  assert.equal(rollout.version, '1.1.0');
  await waitFor(async () => (await versions()).every((v) => v === 'v1.1.0'), 2 * BUSY_MACHINE_MS, 'every turbine to report model 1.1.0');
  assert.deepEqual(await versions(), ['v1.1.0', 'v1.1.0', 'v1.1.0', 'v1.1.0', 'v1.1.0']);
  await waitFor(async () => (await page.locator('#jobs tbody tr').allTextContents()).some((t) => t.includes(rollout.jobId) && t.includes('5 succeeded')), BUSY_MACHINE_MS, 'the job to show 5 succeeded');
  // fleet.status() is the workers' periodic snapshot (every STATUS_MS): it may trail the cloud's view above.
  await waitFor(async () => fleet.status().every((s) => s.version === '1.1.0'), BUSY_MACHINE_MS, "every turbine's status snapshot to show model 1.1.0");
  const after = fleet.status();
  after.forEach((s, i) => {
    assert.ok(s.produced > before[i], `turbine ${i} kept producing frames`);
    assert.equal(s.dropped, 0, `turbine ${i} dropped frames`);
    assert.equal(s.version, '1.1.0');
  });
});
