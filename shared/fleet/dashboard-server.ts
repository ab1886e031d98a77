/**
 * The farm's web dashboard: fastify serves the page (dashboard/), plotly.js and a small JSON API for the
 * simulator's controls (inject a fault, clear it, change the wind) and the operator's release; a
 * WebSocket (ws) pushes each browser the view it asked for (one page of the grid and one detail turbine)
 * twice a second, and at once when an alarm or an alert arrives. Operators confirm or reject captured
 * alarms (stored once, with their windows, in the monitoring's label store) and read the monitoring
 * report's drift verdict (alarm-review.ts). Listens on 127.0.0.1 only.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { type WebSocket, WebSocketServer } from 'ws';
import { S3Client } from '@aws-sdk/client-s3';
import { captureBucketName } from '../cloud/capture/service';
import { type CloudJson, cloudClientConfig, type LocalCloud } from '../cloud/local-cloud';
import { FAULT_KINDS, FAULT_SEVERITIES, type FaultKind, type FaultSeverity } from '../turbine/faults';
import { AlarmReview } from './alarm-review';
import type { Fleet } from './fleet';
import { registerReviewRoutes } from './review-routes';

/** A running dashboard. */
export interface DashboardServer {
  url: string;
  close(): Promise<void>;
}

/** What a browser asks to see. */
interface View {
  page: number;
  pageSize: number;
  detail: number | null;
}

const PUSH_MS = 500;
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
};

/**
 * The alarm review over the farm's capture bucket. The farm runs on a local cloud whose handle carries its
 * credentials (a LocalCloud, or the cloud.json of one in another process); without them there is no review.
 */
function reviewFor(fleet: Fleet, featureNames: readonly string[]): { review: AlarmReview; close: () => void } | null {
  const cloud = fleet.cloud as Partial<LocalCloud & CloudJson>;
  if (!cloud.credentials && !cloud.accessKeyId) return null;
  const s3 = new S3Client(cloudClientConfig(cloud as LocalCloud | CloudJson));
  return { review: new AlarmReview(s3, { bucket: captureBucketName(), featureNames }), close: () => s3.destroy() };
}

/** Parses a browser's view message; null when it is not one (ignored, counted by the caller). */
function parseView(text: string): View | null {
  try {
    const v = JSON.parse(text) as Partial<View>;
    const int = (x: unknown, min: number, max: number): number | null => (typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max ? x : null);
    const page = int(v.page, 0, 100000);
    const pageSize = int(v.pageSize, 1, 200);
    const detail = v.detail === null ? null : int(v.detail, 0, 100000);
    if (page === null || pageSize === null || (detail === null && v.detail !== null)) return null;
    return { page, pageSize, detail };
  } catch {
    return null;
  }
}

/** Starts the dashboard for a fleet on host:port (port 0: any free port). */
export async function startDashboard(fleet: Fleet, opts: { port?: number; host?: string; log?: (line: string) => void } = {}): Promise<DashboardServer> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? (() => undefined);
  const app: FastifyInstance = Fastify({ bodyLimit: 4096, logger: false });
  const dir = join(__dirname, 'dashboard');
  const files = new Map(Object.entries(STATIC).map(([route, s]) => [route, { body: readFileSync(join(dir, s.file)), type: s.type }]));
  files.set('/plotly.min.js', { body: readFileSync(require.resolve('plotly.js-dist-min')), type: 'text/javascript; charset=utf-8' });
  for (const [route, f] of files) app.get(route, async (_req, reply) => reply.type(f.type).header('cache-control', 'no-cache').send(f.body));
  app.get('/favicon.ico', async (_req, reply) => reply.status(204).send());

  const index = { type: 'object', required: ['index'], properties: { index: { type: 'integer', minimum: 0, maximum: fleet.size - 1 } } } as const;
  app.get('/api/snapshot', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    return fleet.snapshot({ page: Number(q.page ?? 0), pageSize: Number(q.pageSize ?? 24), detail: q.detail === undefined ? null : Number(q.detail) });
  });
  app.post<{ Params: { index: number }; Body: { kind: FaultKind; severity?: FaultSeverity; seconds?: number } }>(
    '/api/turbines/:index/fault',
    {
      schema: {
        params: index,
        body: {
          type: 'object',
          required: ['kind'],
          additionalProperties: false,
          properties: { kind: { type: 'string', enum: [...FAULT_KINDS] }, severity: { type: 'string', enum: [...FAULT_SEVERITIES] }, seconds: { type: 'number', exclusiveMinimum: 0, maximum: 3600 } },
        },
      },
    },
    async (req) => {
      const rec = await fleet.injectFault(req.params.index, req.body.kind, req.body.severity ?? 'severe', req.body.seconds ?? 20);
      push();
      return rec;
    },
  );
  app.post<{ Params: { index: number } }>('/api/turbines/:index/clear', { schema: { params: index } }, async (req) => {
    await fleet.clearFault(req.params.index);
    return { ok: true };
  });
  app.post<{ Params: { index: number } }>('/api/turbines/:index/release', { schema: { params: index } }, async (req) => ({ release: await fleet.release(req.params.index) }));
  app.post<{ Body: { rps: number; index?: number } }>(
    '/api/wind',
    { schema: { body: { type: 'object', required: ['rps'], additionalProperties: false, properties: { rps: { type: 'number', minimum: 0, maximum: 20 }, index: { type: 'integer', minimum: 0, maximum: fleet.size - 1 } } } } },
    async (req) => {
      await fleet.setWind(req.body.rps, req.body.index);
      return { ok: true };
    },
  );
  const reviewing = reviewFor(fleet, fleet.snapshot({ pageSize: 1 }).featureNames);
  registerReviewRoutes(app, {
    review: reviewing?.review ?? null,
    thingNames: fleet.thingNames,
    heartbeats: () => [...fleet.console.devices.values()].flatMap((d) => (d.heartbeat ? [d.heartbeat] : [])),
    log,
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    // Bad input (schema) and refused commands get the reason; nothing changed.
    void reply.status(err.statusCode && err.statusCode < 500 ? err.statusCode : 400).send({ error: err.message });
  });

  await app.listen({ port: opts.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const url = `http://${host}:${port}/`;

  const clients = new Map<WebSocket, View>();
  const wss = new WebSocketServer({ server: app.server, path: '/ws', maxPayload: 1024 });
  const updateWatch = (): void => fleet.watch([...new Set([...clients.values()].map((v) => v.detail).filter((d): d is number => d !== null))]);
  const send = (ws: WebSocket, view: View): void => {
    if (ws.readyState === ws.OPEN && ws.bufferedAmount < 4 * 1024 * 1024) ws.send(JSON.stringify(fleet.snapshot(view)));
  };
  wss.on('connection', (ws) => {
    clients.set(ws, { page: 0, pageSize: 24, detail: null });
    ws.on('message', (data) => {
      const view = parseView(String(data));
      if (!view) {
        ws.send(JSON.stringify({ error: 'a view message is {"page": int, "pageSize": 1..200, "detail": int | null}' }));
        return;
      }
      clients.set(ws, view);
      updateWatch();
      send(ws, view);
    });
    ws.on('close', () => {
      clients.delete(ws);
      updateWatch();
    });
    ws.on('error', (err) => log(`dashboard socket: ${err.message}`));
  });
  const push = (): void => {
    for (const [ws, view] of clients) send(ws, view);
  };
  const timer = setInterval(push, PUSH_MS);
  // Alarms and alerts reach the browsers at once, not at the next tick.
  let soon: NodeJS.Timeout | null = null;
  const pushSoon = (): void => {
    soon ??= setTimeout(() => {
      soon = null;
      push();
    }, 20);
  };
  fleet.on('alarm', pushSoon);
  fleet.on('alert', pushSoon);

  return {
    url,
    async close() {
      clearInterval(timer);
      if (soon) clearTimeout(soon);
      fleet.off('alarm', pushSoon);
      fleet.off('alert', pushSoon);
      for (const ws of clients.keys()) ws.terminate();
      wss.close();
      await app.close();
      reviewing?.close();
    },
  };
}
