import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { download } from './download';
import { ModelRejected } from './model-package';
import { waitUntil } from '../labs/poll-until';

/** Serve one handler on loopback for the duration of fn. */
async function withServer(handler: (req: IncomingMessage, res: ServerResponse) => void, fn: (url: string) => Promise<void>): Promise<void> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}/package.tar.gz`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

const rejectedAs = (message: RegExp) => (err: unknown) => {
  assert.ok(err instanceof ModelRejected, String(err));
  assert.equal(err.reason, 'download-failed');
  assert.match(err.message, message);
  return true;
};

const LIMIT = 256 * 1024;

test('a body without a length that never ends is cancelled once it passes the limit, not read to the end', async () => {
  let sent = 0;
  let closedAfter: number | undefined;
  await withServer(
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/gzip' }); // chunked: no Content-Length
      const piece = Buffer.alloc(16 * 1024, 1);
      const pump = () => {
        while (closedAfter === undefined && res.write(piece)) sent += piece.length;
        if (closedAfter === undefined) res.once('drain', pump);
      };
      res.once('close', () => (closedAfter = sent));
      pump();
    },
    async (url) => {
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the download kept reading an endless body')), 20_000).unref());
      await Promise.race([assert.rejects(download(url, { maxBytes: LIMIT }), rejectedAs(/larger than the limit of 262144 bytes/)), timeout]);
      await waitUntil('the client to close the transfer', () => closedAfter !== undefined, { timeoutMs: 5000, intervalMs: 10 });
    },
  );
});

test('a declared Content-Length over the limit is refused before the body is read', async () => {
  let bodyWritten = false;
  await withServer(
    (_req, res) => {
      res.writeHead(200, { 'content-length': String(LIMIT + 1) });
      res.flushHeaders();
      setTimeout(() => {
        bodyWritten = true;
        res.end(Buffer.alloc(LIMIT + 1));
      }, 5_000).unref();
    },
    async (url) => {
      await assert.rejects(download(url, { maxBytes: LIMIT }), rejectedAs(/package is 262145 bytes \(limit 262144\)/));
      assert.equal(bodyWritten, false);
    },
  );
});

test('a package of exactly the limit arrives whole, with or without a Content-Length', async () => {
  const body = Buffer.alloc(LIMIT);
  for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
  for (const withLength of [true, false]) {
    await withServer(
      (_req, res) => {
        res.writeHead(200, withLength ? { 'content-length': String(body.length) } : {});
        res.write(body.subarray(0, 1000));
        res.end(body.subarray(1000));
      },
      async (url) => assert.ok((await download(url, { maxBytes: LIMIT })).equals(body), `withLength=${withLength}`),
    );
  }
});

test('an HTTP error, a cut-off body and an unreachable host are download-failed with the cause', async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(404);
      res.end('NoSuchKey');
    },
    async (url) => assert.rejects(download(url), rejectedAs(/HTTP 404/)),
  );
  await withServer(
    (_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write(Buffer.alloc(10));
      setTimeout(() => res.destroy(), 50);
    },
    async (url) => assert.rejects(download(url), rejectedAs(/broke off/)),
  );
  await assert.rejects(download('http://127.0.0.1:1/none'), rejectedAs(/cannot download the package/));
});
