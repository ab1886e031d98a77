/**
 * Local S3 throughput: signed PutObject + GetObject of 64 KiB objects through the SigV4 verifier, the
 * router, the journaled state store (fsync per write) and the disk, against plain node:http round trips
 * carrying the same 64 KiB up and back down in the same run, and against the same SDK calls answered by
 * a do-nothing stub (the SDK's own cost).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { BenchLine } from '../bench/types';
import { cloudClientConfig, startLocalCloud } from './local-cloud';
import { installS3 } from './s3/service';

export const name = 'local cloud S3';

const OBJECT_BYTES = 64 * 1024;
const ROUNDS = 150;

/** Plain node:http: PUT 64 KiB, server keeps it in memory, GET it back; pairs per second. */
/** A server that keeps the last PUT body in memory and answers GET with it; `s3` adds the headers the SDK needs. */
async function memoryObjectServer(s3: boolean): Promise<Server> {
  let stored = Buffer.alloc(0);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'PUT') {
        stored = Buffer.concat(chunks);
        if (s3) res.writeHead(200, { etag: '"0"' });
        res.end();
      } else {
        if (s3) res.writeHead(200, { 'content-length': String(stored.length), 'content-type': 'application/octet-stream' });
        res.end(stored);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function rawPairsPerSecond(payload: Buffer): Promise<number> {
  const server = await memoryObjectServer(false);
  const port = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true });
  const roundTrip = (method: string, body?: Buffer) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path: '/obj', agent }, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => (n += c.length));
        res.on('end', () => resolve(n));
      });
      req.on('error', reject);
      req.end(body);
    });
  const start = performance.now();
  for (let i = 0; i < ROUNDS; i++) {
    await roundTrip('PUT', payload);
    if ((await roundTrip('GET')) !== payload.length) throw new Error('raw GET returned the wrong size');
  }
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return ROUNDS / seconds;
}

/** Signed PutObject + GetObject pairs per second against the local cloud. */
async function s3PairsPerSecond(payload: Buffer): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 's3-bench-'));
  const cloud = await startLocalCloud({ dir, installers: [{ name: 's3', install: installS3 }] });
  const s3 = new S3Client(cloudClientConfig(cloud));
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
    const start = performance.now();
    for (let i = 0; i < ROUNDS; i++) {
      const Key = `obj-${i % 10}`;
      await s3.send(new PutObjectCommand({ Bucket: 'bench', Key, Body: payload }));
      const got = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key }));
      if ((await got.Body!.transformToByteArray()).length !== payload.length) throw new Error('GetObject returned the wrong size');
    }
    return ROUNDS / ((performance.now() - start) / 1000);
  } finally {
    s3.destroy();
    await cloud.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The same SDK calls against a stub that answers PutObject with an ETag and GetObject with the bytes it
 * holds, without verifying anything: what the SDK alone costs, so the cloud's own share shows.
 */
async function sdkStubPairsPerSecond(payload: Buffer): Promise<number> {
  const server = await memoryObjectServer(true);
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIASTUB', secretAccessKey: 'stub' },
  });
  try {
    const start = performance.now();
    for (let i = 0; i < ROUNDS; i++) {
      await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: 'k', Body: payload }));
      const got = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: 'k' }));
      if ((await got.Body!.transformToByteArray()).length !== payload.length) throw new Error('stub GetObject returned the wrong size');
    }
    return ROUNDS / ((performance.now() - start) / 1000);
  } finally {
    s3.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Run all three and report S3 pairs/s with the raw HTTP figure as baseline. */
export async function run(): Promise<BenchLine[]> {
  const payload = randomBytes(OBJECT_BYTES);
  await rawPairsPerSecond(payload); // warm up sockets and JIT
  const raw = await rawPairsPerSecond(payload);
  const s3 = await s3PairsPerSecond(payload);
  const stub = await sdkStubPairsPerSecond(payload);
  return [
    {
      label: 'signed S3 PutObject+GetObject, 64 KiB',
      value: s3,
      unit: 'pairs/s',
      baseline: { label: 'plain node:http PUT+GET, 64 KiB', value: raw },
      note: `${ROUNDS} sequential pairs; includes SigV4 verify, CRC32 check, fsync of object and journal`,
    },
    {
      label: 'signed S3 PutObject+GetObject, 64 KiB, against the SDK alone',
      value: s3,
      unit: 'pairs/s',
      baseline: { label: 'the same SDK calls against a do-nothing stub server', value: stub },
      note: 'time per pair = SDK time / ratio: the cloud adds (1/ratio - 1) x what the SDK itself costs',
    },
  ];
}
