import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateThingCommand, DescribeThingCommand, IoTClient } from '@aws-sdk/client-iot';
import { ManualClock } from './clock';
import type { CloudContext } from './contracts';
import { AwsError } from './http/errors';
import { signedFetch } from './http/signing-testing';
import { cloudClientConfig, readCloudJson, resolveClientConfig, startLocalCloud } from './local-cloud';
import { cloudSettings } from './config';
import type { NamedInstaller } from './services';

/** A tiny restJson1 'iot' service: DescribeThing over one collection. */
const fakeIot: NamedInstaller = {
  name: 'fake-iot',
  install: async (ctx: CloudContext) => {
    const things = ctx.store.collection<{ thingName: string }>('fake-things');
    things.put('known', { thingName: 'known' });
    ctx.routes.add('iot', [
      {
        method: 'GET',
        path: '/things/{thingName}',
        action: 'DescribeThing',
        handler: async (_req, params) => {
          const thing = things.get(params.thingName);
          if (!thing) throw new AwsError('ResourceNotFoundException', `Thing ${params.thingName} does not exist`, 404);
          return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ thingName: thing.thingName, version: 1 }) };
        },
      },
      {
        method: 'POST',
        path: '/things/{thingName}',
        action: 'CreateThing',
        handler: async (_req, params) => {
          things.put(params.thingName, { thingName: params.thingName });
          return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ thingName: params.thingName }) };
        },
      },
    ]);
    return { stop: async () => undefined };
  },
};

function rawRequest(url: string, method: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('startLocalCloud serves signed restJson requests, renders AWS errors the SDK understands, writes cloud.json', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'local-cloud-'));
  const cloud = await startLocalCloud({ dir, port: 0, clock: new ManualClock(), installers: [fakeIot] });
  try {
    const iot = new IoTClient(cloudClientConfig(cloud));
    const found = await iot.send(new DescribeThingCommand({ thingName: 'known' }));
    assert.equal(found.thingName, 'known');
    await assert.rejects(iot.send(new DescribeThingCommand({ thingName: 'missing' })), (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(err.name, 'ResourceNotFoundException');
      assert.equal(err.message, 'Thing missing does not exist');
      assert.equal(err.$metadata?.httpStatusCode, 404);
      return true;
    });
    const wrong = new IoTClient({ ...cloudClientConfig(cloud), credentials: { accessKeyId: cloud.credentials.accessKeyId, secretAccessKey: 'wrong' } });
    await assert.rejects(wrong.send(new DescribeThingCommand({ thingName: 'known' })), { name: 'InvalidSignatureException' });
    const stranger = new IoTClient({ ...cloudClientConfig(cloud), credentials: { accessKeyId: 'AKIAOTHER', secretAccessKey: 'x' } });
    await assert.rejects(stranger.send(new DescribeThingCommand({ thingName: 'known' })), { name: 'UnrecognizedClientException' });

    // Unsigned: refused in the protocol of the service whose route matches.
    const unsigned = await rawRequest(`${cloud.endpoints.http}/things/known`, 'GET');
    assert.equal(unsigned.status, 403);
    assert.equal(unsigned.headers['x-amzn-errortype'], 'MissingAuthenticationTokenException');
    assert.equal(JSON.parse(unsigned.body).__type, 'MissingAuthenticationTokenException');

    // Local mode finds a running cloud through its cloud.json; aws mode uses the SDK's default chain.
    assert.deepEqual(resolveClientConfig(cloudSettings({ mode: 'local', stateDir: dir }, {})), cloudClientConfig(cloud));
    assert.deepEqual(resolveClientConfig(cloudSettings({ mode: 'aws' }, {})), {});
    assert.throws(() => resolveClientConfig(cloudSettings({ mode: 'local', stateDir: join(dir, 'nothing') }, {})), /cloud\.json not found: start the local cloud first/);
    const json = readCloudJson(dir);
    assert.equal(json.endpoints.http, cloud.endpoints.http);
    assert.equal(json.accessKeyId, cloud.credentials.accessKeyId);
    assert.equal(statSync(join(dir, 'cloud.json')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'credentials.json')).mode & 0o777, 0o600);
  } finally {
    await cloud.stop();
    await cloud.stop();
  }
  // Same dir again: same credentials, state kept.
  const again = await startLocalCloud({ dir, port: 0, installers: [fakeIot] });
  try {
    assert.equal(again.credentials.secretAccessKey, JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')).secretAccessKey);
    assert.equal(again.context.store.collection('fake-things').size(), 1);
  } finally {
    await again.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('an oversized JSON request gets 413 RequestEntityTooLargeException and changes nothing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'local-cloud-'));
  const cloud = await startLocalCloud({ dir, installers: [fakeIot], maxBodyBytes: 200 });
  try {
    const iot = new IoTClient(cloudClientConfig(cloud));
    await iot.send(new CreateThingCommand({ thingName: 'small', attributePayload: { attributes: { a: 'b' } } }));
    await assert.rejects(iot.send(new CreateThingCommand({ thingName: 'big', attributePayload: { attributes: { a: 'x'.repeat(500) } } })), (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(err.name, 'RequestEntityTooLargeException');
      assert.equal(err.$metadata?.httpStatusCode, 413);
      return true;
    });
    assert.deepEqual(cloud.context.store.collection('fake-things').keys().sort(), ['known', 'small']);
    iot.destroy();
  } finally {
    await cloud.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a second cloud on the same state folder is refused while the first runs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'local-cloud-'));
  const first = await startLocalCloud({ dir, installers: [fakeIot] });
  try {
    await assert.rejects(startLocalCloud({ dir, installers: [fakeIot] }), /is in use by another local cloud/);
  } finally {
    await first.stop();
  }
  const second = await startLocalCloud({ dir, installers: [fakeIot] });
  await second.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A tiny awsJson1.1 'sagemaker' service: one operation selected by X-Amz-Target. */
const fakeSageMaker: NamedInstaller = {
  name: 'fake-sagemaker',
  install: async (ctx: CloudContext) => {
    ctx.routes.add('sagemaker', [
      {
        method: 'POST',
        path: '/',
        action: 'ListDeviceFleets',
        handler: async (req) => {
          const input = JSON.parse(req.body.toString()) as { MaxResults?: number };
          if (input.MaxResults !== undefined && input.MaxResults < 1) throw new AwsError('ValidationException', 'MaxResults must be at least 1');
          return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify({ DeviceFleetSummaries: [] }) };
        },
      },
    ]);
    return { stop: async () => undefined };
  },
};

test('awsJson1.1 operations are chosen by X-Amz-Target and their errors carry __type', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'local-cloud-'));
  const cloud = await startLocalCloud({ dir, installers: [fakeSageMaker] });
  const call = async (target: string, body: object) => {
    const res = await signedFetch(cloud, {
      service: 'sagemaker',
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
      body: JSON.stringify(body),
    });
    return { status: res.status, type: res.headers.get('x-amzn-errortype'), json: (await res.json()) as Record<string, unknown> };
  };
  try {
    assert.deepEqual(await call('SageMaker.ListDeviceFleets', {}), { status: 200, type: null, json: { DeviceFleetSummaries: [] } });
    const invalid = await call('SageMaker.ListDeviceFleets', { MaxResults: 0 });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.json.__type, 'ValidationException');
    assert.equal(invalid.json.message, 'MaxResults must be at least 1');
    const unknown = await call('SageMaker.DropEverything', {});
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.__type, 'UnknownOperationException');
  } finally {
    await cloud.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a failing installer stops what started and names the service', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'local-cloud-'));
  let stopped = false;
  try {
    await assert.rejects(
      startLocalCloud({
        dir,
        installers: [
          { name: 'first', install: async () => ({ stop: async () => void (stopped = true) }) },
          { name: 'broken', install: async () => Promise.reject(new Error('no CA')) },
        ],
      }),
      /installing broken failed: no CA/,
    );
    assert.equal(stopped, true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

