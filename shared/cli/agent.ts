/**
 * `npm run agent -- --config <device bundle dir | device.json> [--state <dir>] [--public-key <pem>]
 *  [--model <package.tar.gz>] [--frames simulator|stdin|greengrass-ipc|none] [--connection mqtt|greengrass-ipc] ...`:
 * runs one edge agent as a process (also as the Greengrass Detector component: --connection greengrass-ipc).
 * Frames come from a seeded TurbineSimulator in real time (default; --fault injects a fault now and then),
 * from stdin (one CSV row or JSON
 * object per line; the agent stops when stdin ends), or nowhere (jobs and heartbeats only). Logs go to
 * stderr; with --events, one JSON line per event (swap, job, alarm, window, heartbeat) goes to stdout.
 * SIGTERM or SIGINT stops it cleanly (open capture batch kept on disk, connection closed).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join, resolve } from 'node:path';
import { startEdgeAgent, type EdgeAgent } from '../edge/agent';
import { GreengrassIpcConnection } from '../edge/greengrass-ipc-connection';
import { type EngineChoice, engineFactory } from '../edge/inference-engine';
import { packageVerifier } from '../edge/package-verifier';
import { DEFAULT_SIGNING_KEY_DIR, PUBLIC_KEY_FILE } from '../packaging/signing-key';
import type { ScoredWindow } from '../edge/scoring-runtime';
import { FAULT_KINDS, FAULT_SEVERITIES, type FaultKind, type FaultSeverity } from '../turbine/faults';
import { TurbineSimulator } from '../turbine/simulator';

const number = (what: string, min: number, max: number) => (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${what} must be a number from ${min} to ${max}, got "${value}"`);
  return n;
};

interface Options {
  config: string;
  state?: string;
  publicKey?: string;
  model?: string;
  modelName?: string;
  frames: 'simulator' | 'stdin' | 'greengrass-ipc' | 'none';
  framesTopic: string;
  connection: 'mqtt' | 'greengrass-ipc';
  frameRate: number;
  seed: number;
  turbineId: number;
  heartbeat?: number;
  healthWait?: number;
  captureRate?: number;
  captureBatch?: number;
  captureMaxAge?: number;
  captureBufferBytes?: number;
  events?: boolean;
  engine: EngineChoice;
  fault?: { kind: FaultKind; severity: FaultSeverity; seconds: number };
  faultEvery: number;
}

function parseFault(value: string): { kind: FaultKind; severity: FaultSeverity; seconds: number } {
  const [kind, severity, seconds] = value.split(':');
  if (!(FAULT_KINDS as readonly string[]).includes(kind)) throw new InvalidArgumentError(`fault kind "${kind}" is not one of ${FAULT_KINDS.join(', ')}`);
  if (!(FAULT_SEVERITIES as readonly string[]).includes(severity)) throw new InvalidArgumentError(`fault severity "${severity}" is not one of ${FAULT_SEVERITIES.join(', ')}`);
  const s = Number(seconds);
  if (!(s > 0)) throw new InvalidArgumentError(`fault duration "${seconds}" must be a positive number of seconds`);
  return { kind: kind as FaultKind, severity: severity as FaultSeverity, seconds: s };
}

const program = new Command('agent')
  .description('Run the edge agent of one device: verified models, scoring, alarms, data capture, heartbeats and model updates over IoT Jobs.')
  .requiredOption('--config <path>', 'device bundle folder (from npm run provision) or its device.json')
  .option('--state <dir>', 'agent state folder: kept models, capture spool, job state (default <bundle>/agent-state)')
  .option('--public-key <file>', 'trusted Ed25519 public key (PEM) that model packages must be signed with (default <bundle>/signing-key.pub.pem, else the project key in .state/signing)')
  .option('--model <package>', 'model package (.tar.gz) to load when the agent has no model yet')
  .option('--model-name <name>', 'model this device serves; jobs for another name fail (default: the loaded model\'s)')
  .addOption(new Option('--frames <source>', 'where frames come from (greengrass-ipc: local publish/subscribe messages of the nucleus, one frame per line)').choices(['simulator', 'stdin', 'greengrass-ipc', 'none']).default('simulator'))
  .option('--frames-topic <topic>', 'local topic the turbine\'s frames are published on (with --frames greengrass-ipc)', 'turbine/frames')
  .addOption(
    new Option('--connection <link>', 'cloud link: the agent\'s own MQTT connection, or the Greengrass nucleus\'s MQTT proxy over IPC (run as a component: models come from the Model component, not IoT Jobs)')
      .choices(['mqtt', 'greengrass-ipc'])
      .default('mqtt'),
  )
  .option('--frame-rate <hz>', 'simulator frames per second', number('--frame-rate', 0.1, 100000), 20)
  .option('--seed <n>', 'simulator seed', number('--seed', 0, 2 ** 31), 42)
  .option('--turbine-id <n>', 'simulated turbine number', number('--turbine-id', 0, 1000000), 0)
  .option('--fault <kind:severity:seconds>', `inject a simulator fault now and then, e.g. vib:severe:20 (kinds: ${FAULT_KINDS.join(', ')})`, parseFault)
  .option('--fault-every <seconds>', 'seconds between injected faults (default 120)', number('--fault-every', 1, 86400), 120)
  .option('--heartbeat <seconds>', 'heartbeat period (default device.json agent.heartbeatSeconds)', number('--heartbeat', 0.1, 86400))
  .option('--capture-rate <share>', 'share of inferences captured, 0 to 1', number('--capture-rate', 0, 1))
  .option('--capture-batch <n>', 'records per capture batch', number('--capture-batch', 1, 10000))
  .option('--capture-max-age <seconds>', 'longest a capture batch stays open', number('--capture-max-age', 0.1, 86400))
  .option('--capture-buffer-bytes <n>', 'size cap of the on-disk capture spool', number('--capture-buffer-bytes', 1024, 2 ** 40))
  .option('--health-wait <seconds>', 'longest a new model waits for real frames for its health verdict before it is refused (default 120)', number('--health-wait', 1, 86400))
  .addOption(new Option('--engine <engine>', 'inference engine (auto: onnxruntime-node when it loads, else tfjs)').choices(['auto', 'onnxruntime', 'tfjs']).default('auto'))
  .option('--events', 'print one JSON line per event on stdout')
  .showHelpAfterError();

function fail(message: string): never {
  process.stderr.write(`agent: ${message}\n`);
  process.exit(1);
}

function trustedKeyPath(opts: Options): string {
  if (opts.publicKey) return resolve(opts.publicKey);
  const bundle = existsSync(opts.config) && statSync(opts.config).isDirectory() ? opts.config : dirname(opts.config);
  const inBundle = join(bundle, PUBLIC_KEY_FILE);
  // On the workshop machine the project's own key (npm run package made it) is the trusted one.
  const project = resolve(DEFAULT_SIGNING_KEY_DIR, PUBLIC_KEY_FILE);
  return existsSync(inBundle) || !existsSync(project) ? inBundle : project;
}

async function main(): Promise<void> {
  program.parse();
  const opts = program.opts<Options>();
  if (!existsSync(opts.config)) fail(`--config ${opts.config}: no such bundle folder or device.json`);
  const keyPath = trustedKeyPath(opts);
  if (opts.model && !existsSync(opts.model)) fail(`--model ${opts.model}: no such package file`);
  if (!existsSync(keyPath)) fail(`no trusted public key at ${keyPath}; pass --public-key <file> (the signing key's .pub.pem)`);
  const keyPem = readFileSync(keyPath, 'utf8');
  try {
    const key = createPublicKey(keyPem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`an ${key.asymmetricKeyType} key, not Ed25519`);
  } catch (err) {
    fail(`${keyPath} is not a usable Ed25519 public key (${(err as Error).message})`);
  }
  const emit = (event: Record<string, unknown>): void => {
    if (opts.events) process.stdout.write(JSON.stringify(event) + '\n');
  };
  const ipc = opts.connection === 'greengrass-ipc' || opts.frames === 'greengrass-ipc' ? new GreengrassIpcConnection({}, (line) => process.stderr.write(`${line}\n`)) : undefined;
  if (ipc) await ipc.start().catch((err: Error) => fail(`--connection/--frames greengrass-ipc: ${err.message}`));
  let agent: EdgeAgent;
  try {
    agent = await startEdgeAgent({
      config: opts.config,
      stateDir: opts.state,
      verifier: packageVerifier(keyPem),
      engineFactory: engineFactory(opts.engine),
      initialPackage: opts.model,
      ...(opts.connection === 'greengrass-ipc' ? { connection: ipc, jobs: false, preferInitialPackage: true } : {}),
      modelName: opts.modelName,
      heartbeatSeconds: opts.heartbeat,
      ...(opts.healthWait !== undefined ? { health: { waitSeconds: opts.healthWait } } : {}),
      capture: {
        ...(opts.captureRate !== undefined ? { sampleRate: opts.captureRate } : {}),
        ...(opts.captureBatch !== undefined ? { batchSize: opts.captureBatch } : {}),
        ...(opts.captureMaxAge !== undefined ? { maxAgeSeconds: opts.captureMaxAge } : {}),
        ...(opts.captureBufferBytes !== undefined ? { bufferMaxBytes: opts.captureBufferBytes } : {}),
      },
    });
  } catch (err) {
    fail((err as Error).message);
  }
  agent.on('swap', (e) => emit({ type: 'swap', ...e }));
  agent.on('job', (e) => emit({ type: 'job', ...e }));
  agent.on('waiting', (w) => emit({ type: 'waiting', ...w }));
  agent.on('problem', (p) => emit({ type: 'problem', ...p }));
  if (agent.problem) emit({ type: 'problem', ...agent.problem });
  agent.on('alarm', (w: ScoredWindow) => emit({ type: 'alarm', endIndex: w.endIndex, endEventTime: w.endEventTime, version: w.version, score: w.score, overThreshold: w.overThreshold }));
  agent.on('window', (w: ScoredWindow) => emit({ type: 'window', endIndex: w.endIndex, endEventTime: w.endEventTime, version: w.version, score: Number(w.score.toFixed(4)) }));
  agent.on('heartbeat', (h) => emit({ type: 'heartbeat', ...h }));
  agent.on('online', () => emit({ type: 'online' }));
  agent.on('offline', () => emit({ type: 'offline' }));

  let timer: NodeJS.Timeout | undefined;
  let stopping = false;
  const stop = async (code = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (timer) clearInterval(timer);
    const models = agent.manager.list();
    await agent.stop();
    const c = agent.counters;
    const cc = agent.capture.counters;
    process.stderr.write(
      `agent: stopped; frames ${c.framesReceived} (rejected ${c.framesRejected}, dropped ${c.framesDropped}), inferences ${c.windowsScored}, alarms ${c.alarms}, captured ${cc.captured}, uploaded ${cc.uploaded}, dropped ${cc.dropped}, pending ${cc.pendingRecords}\n`,
    );
    emit({ type: 'stopped', counters: c, capture: cc, models });
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());

  if (opts.frames === 'simulator') {
    const sim = new TurbineSimulator({ turbineId: opts.turbineId, seed: opts.seed });
    const started = Date.now();
    let sent = 0;
    timer = setInterval(() => {
      const due = Math.floor(((Date.now() - started) / 1000) * opts.frameRate);
      // A device that fell far behind (laptop asleep) skips ahead instead of bursting.
      if (due - sent > opts.frameRate * 10) sent = due - Math.ceil(opts.frameRate);
      for (; sent < due; sent++) {
        // Faults start every --fault-every seconds of simulated time, after one quiet period.
        if (opts.fault && sent > 0 && sent % Math.round(opts.faultEvery * opts.frameRate) === 0 && !sim.fault) {
          sim.inject(opts.fault.kind, opts.fault.severity, Math.max(1, Math.round(opts.fault.seconds * opts.frameRate)));
          emit({ type: 'fault', kind: opts.fault.kind, severity: opts.fault.severity, frame: sent });
        }
        agent.push(sim.next());
      }
    }, Math.max(5, Math.min(50, 1000 / opts.frameRate)));
  } else if (opts.frames === 'greengrass-ipc') {
    const local = await (ipc as GreengrassIpcConnection).local();
    await local.subscribe(opts.framesTopic, (m) => {
      for (const line of m.message.split('\n')) if (line.trim() !== '') agent.pushLine(line);
    });
  } else if (opts.frames === 'stdin') {
    const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
    lines.on('line', (line) => agent.pushLine(line));
    lines.on('close', () => void agent.runtime.idle().then(() => stop()));
  }
}

void main().catch((err: Error) => fail(err.message));
