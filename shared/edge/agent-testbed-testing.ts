/**
 * Test support: one real agent against a real local cloud on free ports, with a provisioned bundle and a
 * signed initial model; the cloud can be stopped and started again on the same ports (an outage). And a
 * local HTTP server for model packages that can hold a download open.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import type { LocalCloud } from '../cloud';
import { type EdgeAgent, type EdgeAgentOptions, startEdgeAgent } from './agent';
import { provisionTestDevices, startTestCloud, tempDir } from './agent-testing';
import { testDescription, testKeys, testPackage, testVerifier } from './stand-in-model-testing';

/** A running agent and its cloud; see startAgentTestbed. */
export interface AgentTestbed {
  dir: string;
  stateDir: string;
  agent: EdgeAgent;
  /** The agent's log lines. */
  logs: string[];
  /** The cloud now (a new one after startCloud). */
  cloud(): LocalCloud;
  stopCloud(): Promise<void>;
  /** Starts the cloud again on the same ports from its state folder. */
  startCloud(): Promise<LocalCloud>;
  /** Stops the agent and the cloud and removes the folder. */
  remove(): Promise<void>;
}

/** Starts a cloud, provisions one device and starts its agent with model 1.0.0 and the given options. */
export async function startAgentTestbed(prefix: string, options: Partial<EdgeAgentOptions> = {}, beforeAgent: (stateDir: string) => void = () => undefined): Promise<AgentTestbed> {
  const tmp = await tempDir(prefix);
  const cloudDir = join(tmp.dir, 'cloud');
  let cloud = await startTestCloud(cloudDir);
  const ports = { port: Number(new URL(cloud.endpoints.http).port), mqttPort: cloud.endpoints.mqttPort };
  let agent: EdgeAgent | undefined;
  try {
    const keys = testKeys();
    const pkg = join(tmp.dir, 'model.pkg');
    writeFileSync(pkg, testPackage(keys.privateKey, testDescription(), { bias: 0.1 }));
    const [bundle] = await provisionTestDevices(cloudDir, join(tmp.dir, 'devices'), 1);
    const stateDir = join(tmp.dir, 'state');
    beforeAgent(stateDir);
    const logs: string[] = [];
    agent = await startEdgeAgent({ config: bundle, stateDir, verifier: testVerifier(keys.publicKey), initialPackage: pkg, log: (l) => logs.push(l), ...options });
    const started = agent;
    return {
      dir: tmp.dir,
      stateDir,
      agent: started,
      logs,
      cloud: () => cloud,
      stopCloud: () => cloud.stop(),
      startCloud: async () => (cloud = await startTestCloud(cloudDir, ports)),
      remove: async () => {
        await started.stop();
        await cloud.stop();
        await tmp.remove();
      },
    };
  } catch (err) {
    await agent?.stop();
    await cloud.stop();
    await tmp.remove();
    throw err;
  }
}

/** A local HTTP server handing out one package: see packageServer. */
export interface PackageServer {
  url: string;
  /** Requests received so far. */
  requests(): number;
  /** Ends the held connections (e.g. after the process that made them was killed) and closes. */
  close(): void;
  /** Ends the held connections only. */
  dropConnections(): void;
}

/**
 * Serves bytes at <url>; with holdFirst the first request is never answered (a download in progress);
 * onSent runs when a whole response has been sent for the first time.
 */
export async function packageServer(bytes: Buffer, opts: { holdFirst?: boolean; onSent?: () => void } = {}): Promise<PackageServer> {
  const sockets = new Set<Socket>();
  let requests = 0;
  let sent = 0;
  const server = createServer((_req, res) => {
    if (requests++ === 0 && opts.holdFirst) return;
    res.on('finish', () => {
      if (sent++ === 0) opts.onSent?.();
    });
    res.end(bytes);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dropConnections = (): void => {
    for (const s of sockets) s.destroy();
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/package.tar.gz`,
    requests: () => requests,
    dropConnections,
    close: () => {
      dropConnections();
      server.close();
    },
  };
}
