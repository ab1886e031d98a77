/**
 * The HTTP front door against hand-made requests (signed with the SDK's own signer): errors thrown after
 * the body was read are answered and logged, the signature is checked before the body is buffered,
 * unsigned x-amz-* headers and unsigned payloads of non-S3 services are refused, pre-signed dates are
 * checked both ways.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudContext } from '../contracts';
import { startLocalCloud, type LocalCloud, type LocalCloudOptions } from '../local-cloud';
import { s3Installer } from '../s3/service';
import { signedFetch } from './signing-testing';

/** A JSON test service whose routes read the body and then fail, or echo what they were given. */
async function installProbe(ctx: CloudContext) {
  ctx.routes.add('probe', [
    {
      method: 'POST',
      path: '/boom',
      action: 'Boom',
      // An error no handler expected, thrown after the body was read (as a RangeError from a parser).
      handler: async (req) => ({ status: 200, body: String.fromCodePoint(Number(req.body.toString())) }),
    },
    { method: 'POST', path: '/echo', action: 'Echo', handler: async (req) => ({ status: 200, body: req.body }) },
  ]);
  return { stop: async () => {} };
}

async function withCloud(fn: (cloud: LocalCloud, logged: string[]) => Promise<void>, options: Partial<LocalCloudOptions> = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cloud-http-'));
  const logged: string[] = [];
  const cloud = await startLocalCloud({
    dir,
    port: 0,
    installers: [
      { name: 's3', install: s3Installer() },
      { name: 'probe', install: installProbe },
    ],
    log: (line) => logged.push(line),
    ...options,
  });
  try {
    await fn(cloud, logged);
  } finally {
    await cloud.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

test('an unexpected error thrown after the body was read is answered in the protocol shape and logged', { timeout: 30_000 }, () =>
  withCloud(async (cloud, logged) => {
    const res = await signedFetch(cloud, { service: 'probe', method: 'POST', path: '/boom', body: '99999999' });
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('x-amzn-errortype'), 'InternalFailure');
    assert.equal(((await res.json()) as { __type: string }).__type, 'InternalFailure');
    assert.equal(logged.length, 1);
    assert.match(logged[0], /POST \/boom \(probe\) failed: RangeError/);
  }));
