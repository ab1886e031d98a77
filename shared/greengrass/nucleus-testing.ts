/**
 * Test helpers for the nucleus: recipes and deployment documents in a line, an HTTP artifact server
 * (optionally slow, to cancel mid-download) and a nucleus on a temp folder with short timeouts.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Nucleus, type DeploymentDocument, type NucleusOptions } from './nucleus';

type Obj = Record<string, unknown>;

/** A recipe with one catch-all manifest. */
export function recipeOf(name: string, version: string, lifecycle: Obj, extra: Obj = {}): Obj {
  const { Artifacts, ...rest } = extra;
  return { RecipeFormatVersion: '2020-01-25', ComponentName: name, ComponentVersion: version, Manifests: [{ Platform: { os: '*' }, Lifecycle: lifecycle, Artifacts: Artifacts ?? [] }], ...rest };
}

let docSeq = 0;

/** A deployment document for the roots (name → version) with the given candidate recipes. */
export function deploymentOf(roots: Record<string, string>, recipes: Obj[], extra: Partial<DeploymentDocument> = {}): DeploymentDocument {
  const byName: Record<string, Obj[]> = {};
  for (const r of recipes) (byName[r.ComponentName as string] ??= []).push(r);
  return {
    deploymentId: `deployment-${++docSeq}`,
    components: Object.fromEntries(Object.entries(roots).map(([n, v]) => [n, { version: v }])),
    recipes: byName,
    ...extra,
  };
}

/** Serves bytes per path; `slow` paths dribble one byte every 200 ms. */
export class ArtifactServer {
  readonly files = new Map<string, Buffer>();
  readonly slow = new Set<string>();
  requests = 0;
  private constructor(private readonly server: Server) {}

  static async start(): Promise<ArtifactServer> {
    let self: ArtifactServer | undefined;
    const server = createServer((req, res) => {
      const s = self as ArtifactServer;
      s.requests++;
      const body = s.files.get(req.url ?? '');
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-length': body.length });
      if (!s.slow.has(req.url ?? '')) {
        res.end(body);
        return;
      }
      let i = 0;
      const timer = setInterval(() => {
        if (i >= body.length || res.destroyed) {
          clearInterval(timer);
          res.end();
          return;
        }
        res.write(body.subarray(i, ++i));
      }, 200);
      res.on('close', () => clearInterval(timer));
    });
    self = new ArtifactServer(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return self;
  }

  /** Serve body at /<name>; returns the recipe Artifacts entry and the URL map entry. */
  add(name: string, body: string | Buffer, opts: { slow?: boolean } = {}): { artifact: Obj; urls: Record<string, string> } {
    const bytes = Buffer.from(body);
    this.files.set(`/${name}`, bytes);
    if (opts.slow) this.slow.add(`/${name}`);
    const uri = `s3://artifacts/${name}`;
    return { artifact: { URI: uri, Digest: createHash('sha256').update(bytes).digest('base64'), Algorithm: 'SHA-256' }, urls: { [uri]: `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/${name}` } };
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

/** A nucleus on a new temp folder with short timeouts; cleanup stops it and removes the folder. */
export async function startTestNucleus(opts: Partial<NucleusOptions> = {}): Promise<{ nucleus: Nucleus; root: string; log: string[]; restart(): Promise<Nucleus>; cleanup(): Promise<void> }> {
  const root = opts.root ?? (await mkdtemp(join(tmpdir(), 'nucleus-')));
  const log: string[] = [];
  const options: NucleusOptions = {
    root,
    thingName: 'turbine-test',
    timeouts: { downloadMs: 30_000, deploymentMs: 60_000 },
    run: { stableMs: 300, stopGraceMs: 1000, maxAttempts: 3 },
    log: (line) => log.push(line),
    ...opts,
  };
  let nucleus = await Nucleus.start(options);
  return {
    get nucleus() {
      return nucleus;
    },
    root,
    log,
    async restart() {
      await nucleus.stop();
      nucleus = await Nucleus.start(options);
      return nucleus;
    },
    async cleanup() {
      await nucleus.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Lines of a file the components append to (empty when missing). */
export async function linesOf(path: string): Promise<string[]> {
  try {
    return (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
}
