/**
 * `npm run bench -- fleet.bench`: the farm at 5, 100 and 1000 turbines in real time (20 frames/s each, one edge
 * agent with its own TLS MQTT connection per turbine, over one worker thread per core) with the really
 * trained detector. Per size: frames processed by the agents against frames the turbines produced, alarm
 * latency from fault onset to the dashboard's server (p50/p99, and beyond the detector's own delay), CPU
 * (share of all cores) and memory. FLEET_BENCH_SIZES (e.g. "5,100") and FLEET_BENCH_SECONDS (measured
 * seconds per size, default 60) change the run. The local cloud runs in a child process of its own (its state
 * in .state/fleet-bench/<size>/cloud), counted in CPU and memory; FLEET_BENCH_CLOUD_DIR uses one already
 * running instead (npm run cloud -- --dir <dir>, not counted), FLEET_BENCH_CLOUD=in-process runs it on the
 * farm's main thread (as `npm run fleet` does without --cloud-dir). FLEET_BENCH_LOG=<file> writes the farm's log (agents, cloud) there;
 * FLEET_BENCH_PROFILE=<file> writes a CPU profile of the main thread (cloud, broker, console) taken over the
 * first FLEET_BENCH_PROFILE_SECONDS (default 240) of the first size, ready or not (open it in Chrome DevTools);
 * FLEET_BENCH_CLOUD_PROFILE=<dir> writes the cloud process's profile there when it stops (node --cpu-prof).
 * State (certificates) is kept in .state/fleet-bench; each run starts its agents with fresh state (no model, empty capture spool).
 */
import { createWriteStream, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import type { BenchLine } from '../bench/types';
import { type CloudProcess, startCloudProcess } from '../cloud/cloud-process';
import { type Fleet, type InjectionRecord, startFleet } from './fleet';
import { trainedFleetPackages } from './trained-packages';

export const name = 'fleet: turbines with their own edge agents in real time';

const logFile = process.env.FLEET_BENCH_LOG ? createWriteStream(process.env.FLEET_BENCH_LOG, { flags: 'a' }) : undefined;
const farmLog = logFile ? (line: string): void => void logFile.write(`${new Date().toISOString()} ${line}\n`) : undefined;
/** Profiles the main thread for a while and writes the .cpuprofile, whether or not the farm got ready. */
function profileMainThread(file: string, seconds: number): void {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable', () => session.post('Profiler.start'));
  setTimeout(() => {
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(file, JSON.stringify(result.profile));
      process.stderr.write(`  main-thread CPU profile ${err ? `failed: ${err.message}` : `written to ${file}`}\n`);
      session.disconnect();
    });
  }, seconds * 1000).unref();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pct = (v: number[], q: number): number => (v.length ? [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(q * v.length))] : Number.NaN);

interface SizeResult {
  turbines: number;
  startSeconds: number;
  due: number;
  produced: number;
  processed: number;
  /** Length of the measured window (s). */
  wallSeconds: number;
  cpuShare: number;
  rssBytes: number;
  delaysMs: number[];
  beyondMs: number[];
  /** Device alarm to the console (MQTT through the broker). */
  transportMs: number[];
  detectorS: number[];
  missed: number;
  falseAlarms: number;
  /** 1-minute load average of the machine at the start and the end of the measured window. */
  load: [number, number];
  /** Where the local cloud ran. */
  cloudWhere: string;
}

async function measure(turbines: number, seconds: number, packagePath: string, publicKeyPem: string): Promise<SizeResult> {
  const t0 = performance.now();
  const shown = new Map<string, string>();
  const dir = join(__dirname, '..', '..', '.state', 'fleet-bench', String(turbines));
  // Fresh agent state per run (certificates are kept): an earlier run's capture spools would otherwise all be
  // uploaded at start, a backlog of thousands of batches that is a different scenario from this one.
  rmSync(join(dir, 'agents'), { recursive: true, force: true });
  let fleet: Fleet | undefined;
  let cloud: CloudProcess | undefined;
  try {
    const ownProcess = !process.env.FLEET_BENCH_CLOUD_DIR && process.env.FLEET_BENCH_CLOUD !== 'in-process';
    // The same state folder the farm's own cloud would use, so certificates provisioned either way are reused.
    if (ownProcess) cloud = await startCloudProcess({ dir: join(dir, 'cloud'), log: farmLog, nodeFlags: process.env.FLEET_BENCH_CLOUD_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.FLEET_BENCH_CLOUD_PROFILE] : [] });
    fleet = await startFleet({
      dir,
      packagePath,
      publicKeyPem,
      turbines,
      heartbeatSeconds: 10,
      cloudDir: cloud?.dir ?? process.env.FLEET_BENCH_CLOUD_DIR,
      dashboardPort: 0,
      log: farmLog,
      onProgress: (step, done, total) => {
        const key = `${step} ${Math.floor(done / 100)}`;
        if ((done === total || done % 100 === 0 || step === 'online' || step === 'models') && key !== shown.get(step)) {
          shown.set(step, key);
          process.stderr.write(`  ${new Date().toISOString()} ${turbines} turbines: ${step} ${done}/${total}\n`);
        }
      },
    });
    const startSeconds = (performance.now() - t0) / 1000;
    // Warm-up: the first windows fill, heartbeats arrive.
    await sleep(15_000);
    const sum = (): { due: number; produced: number; processed: number } => fleet!.status().reduce((a, s) => ({ due: a.due + s.due, produced: a.produced + s.produced, processed: a.processed + s.processed }), { due: 0, produced: 0, processed: 0 });
    const alarmsBefore = new Map([...fleet.console.devices].map(([t, d]) => [t, d.alarms]));
    const start = sum();
    const load0 = loadavg()[0];
    const cpu0 = process.cpuUsage();
    const cloudCpu0 = cloud?.cpuSeconds() ?? 0;
    const wall0 = performance.now();
    const memory = (): number => process.memoryUsage().rss + (cloud?.rssBytes() ?? 0);
    let rss = 0;
    // Faults on a spread of turbines, one at a time per turbine, during the measured window.
    const targets = Array.from({ length: Math.min(turbines, 20) }, (_, k) => Math.floor((k * turbines) / Math.min(turbines, 20)));
    const gap = (seconds * 1000 * 0.6) / targets.length;
    // Not awaited: a turbine that is behind produces its fault's first frame late, and the window must not
    // stretch for it (an injection whose onset never came counts as missed).
    const injected: InjectionRecord[] = [];
    let injections = 0;
    for (const index of targets) {
      injections++;
      fleet.injectFault(index, 'vib', 'severe', 10).then((r) => injected.push(r), (err: Error) => farmLog?.(`injection on turbine ${index} failed: ${err.message}`));
      rss = Math.max(rss, memory());
      await sleep(gap);
    }
    const remaining = seconds * 1000 - (performance.now() - wall0);
    if (remaining > 0) await sleep(remaining);
    const end = sum();
    const cpu = process.cpuUsage(cpu0);
    const cloudCpuS = (cloud?.cpuSeconds() ?? 0) - cloudCpu0;
    const wall = performance.now() - wall0;
    rss = Math.max(rss, memory());
    await sleep(5000); // late alarms of the last injections
    const targeted = new Set(targets.map((i) => fleet!.thingNames[i]));
    let falseAlarms = 0;
    for (const [thing, d] of fleet.console.devices) if (!targeted.has(thing)) falseAlarms += d.alarms - (alarmsBefore.get(thing) ?? 0);
    const seen = injected.filter((r) => r.dashboardDelayMs !== null && r.detectorDelayS !== null);
    return {
      turbines,
      startSeconds,
      due: end.due - start.due,
      produced: end.produced - start.produced,
      processed: end.processed - start.processed,
      wallSeconds: wall / 1000,
      cpuShare: ((cpu.user + cpu.system) / 1000 + cloudCpuS * 1000) / wall / availableParallelism(),
      rssBytes: rss,
      delaysMs: seen.map((r) => r.dashboardDelayMs as number),
      beyondMs: seen.map((r) => (r.dashboardDelayMs as number) - (r.detectorDelayS as number) * 1000),
      detectorS: seen.map((r) => r.detectorDelayS as number),
      transportMs: seen.filter((r) => r.deviceAlarmAt !== null).map((r) => (r.cloudAlarmAt as number) - (r.deviceAlarmAt as number)),
      missed: injections - seen.length,
      falseAlarms,
      load: [load0, loadavg()[0]],
      cloudWhere: cloud ? 'local cloud in its own process (counted)' : process.env.FLEET_BENCH_CLOUD_DIR ? 'local cloud already running (not counted)' : "local cloud on the farm's main thread",
    };
  } finally {
    await fleet?.stop();
    await cloud?.stop();
  }
}

export async function run(): Promise<BenchLine[]> {
  const sizes = (process.env.FLEET_BENCH_SIZES ?? '5,100,1000').split(',').map(Number);
  const seconds = Number(process.env.FLEET_BENCH_SECONDS ?? 60);
  const { packages, publicKeyPem } = await trainedFleetPackages(undefined, (l) => process.stderr.write(`  ${l}\n`));
  if (process.env.FLEET_BENCH_PROFILE) profileMainThread(process.env.FLEET_BENCH_PROFILE, Number(process.env.FLEET_BENCH_PROFILE_SECONDS ?? 240));
  const lines: BenchLine[] = [];
  let baseRss: number | null = null;
  for (const n of sizes) {
    let r: SizeResult;
    try {
      r = await measure(n, seconds, packages['1.0.0'], publicKeyPem);
    } catch (err) {
      lines.push({ label: `${n} turbines: not measured`, value: 0, unit: '', note: (err as Error).message.split('\n')[0] });
      continue;
    }
    baseRss ??= r.rssBytes;
    // Printed at once: the table comes only when every size is done, and a later size may fail.
    process.stderr.write(
      `  ${n} turbines measured over ${r.wallSeconds.toFixed(0)} s: scored/produced ${(r.processed / r.produced).toFixed(3)}, produced/due ${(r.produced / r.due).toFixed(3)}, ` +
        `beyond the detector p50/p99 ${(pct(r.beyondMs, 0.5) / 1000).toFixed(2)}/${(pct(r.beyondMs, 0.99) / 1000).toFixed(2)} s, onset to dashboard p50/p99 ${(pct(r.delaysMs, 0.5) / 1000).toFixed(2)}/${(pct(r.delaysMs, 0.99) / 1000).toFixed(2)} s, ` +
        `${r.delaysMs.length} seen, ${r.missed} missed, ${r.falseAlarms} false, CPU ${(r.cpuShare * availableParallelism()).toFixed(2)} cores, RSS ${(r.rssBytes / 2 ** 20).toFixed(0)} MiB, load ${r.load.map((l) => l.toFixed(1)).join('/')}\n`,
    );
    const note = `${availableParallelism()} cores shared with other users (load average ${r.load[0].toFixed(1)} at the start, ${r.load[1].toFixed(1)} at the end of the window); ${r.delaysMs.length} faults seen, ${r.missed} missed, ${r.falseAlarms} alarms on turbines without a fault; start-up ${r.startSeconds.toFixed(0)} s; ${r.cloudWhere}`;
    lines.push({ label: `${n} turbines: frames scored per second (through the pipeline and the model)`, value: r.processed / r.wallSeconds, unit: 'frames/s', baseline: { label: 'frames produced', value: r.produced / r.wallSeconds }, note });
    lines.push({ label: `${n} turbines: frames produced per second`, value: r.produced / r.wallSeconds, unit: 'frames/s', baseline: { label: 'frames due in real time', value: r.due / r.wallSeconds }, note: 'a turbine pauses while its agent has 400 frames waiting' });
    lines.push({ label: `${n} turbines: alarm latency p50, onset to dashboard`, value: pct(r.delaysMs, 0.5) / 1000, unit: 's', baseline: { label: 'detector delay p50 (simulated time)', value: pct(r.detectorS, 0.5) } });
    lines.push({ label: `${n} turbines: alarm latency p99, onset to dashboard`, value: pct(r.delaysMs, 0.99) / 1000, unit: 's', baseline: { label: 'detector delay p99 (simulated time)', value: pct(r.detectorS, 0.99) } });
    lines.push({ label: `${n} turbines: latency beyond the detector's delay p50 / p99`, value: pct(r.beyondMs, 0.5) / 1000, unit: 's', baseline: { label: 'p99', value: pct(r.beyondMs, 0.99) / 1000 }, note: 'target p99 < 2 s' });
    lines.push({ label: `${n} turbines: device alarm to dashboard p50 / p99`, value: pct(r.transportMs, 0.5) / 1000, unit: 's', baseline: { label: 'p99', value: pct(r.transportMs, 0.99) / 1000 }, note: 'the rest of the delay beyond the detector is on the device: a window is ready up to 31 frames (1.55 s) after its last frame (block denoising)' });
    lines.push({ label: `${n} turbines: CPU`, value: r.cpuShare * availableParallelism(), unit: 'cores', baseline: { label: 'cores on the machine', value: availableParallelism() } });
    lines.push({ label: `${n} turbines: memory (RSS)`, value: r.rssBytes / 2 ** 20, unit: 'MiB', baseline: { label: `RSS at ${sizes[0]} turbines`, value: baseRss / 2 ** 20 } });
  }
  return lines;
}
