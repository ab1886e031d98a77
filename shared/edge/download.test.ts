import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { backoffDelay, download, DownloadFailed, type DownloadRetryOptions } from './download';
import { ModelRejected } from './model-package';
import { waitUntil } from '../labs/poll-until';
import { mulberry32 } from '../turbine/random';

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
    async (url) => assert.rejects(download(url, { retry: { maxAttempts: 1 } }), rejectedAs(/broke off after 10 bytes/)),
  );
  await assert.rejects(download('http://127.0.0.1:1/none'), rejectedAs(/cannot download the package: fetch failed \(bad port\)/));
});

// ---------------------------------------------------------------- retries

const PACKAGE = Buffer.from('a package, whole'.repeat(1000));

/** Retry settings that record each pause instead of waiting, on a clock the pauses move; jitter seeded. */
function recordedRetry(seed = 7): { retry: Partial<DownloadRetryOptions>; pauses: number[]; clock: { ms: number } } {
  const pauses: number[] = [];
  const clock = { ms: 0 };
  return {
    pauses,
    clock,
    retry: {
      random: mulberry32(seed),
      now: () => clock.ms,
      sleep: async (ms) => {
        pauses.push(ms);
        clock.ms += ms;
      },
    },
  };
}

/** The pauses the same seed gives for the first n retries. */
const expectedPauses = (n: number, seed = 7): number[] => {
  const random = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => backoffDelay(i + 1, { baseDelayMs: 250, maxDelayMs: 8000, random }));
};

test('connections dropped before an answer are retried after growing, jittered pauses until the package arrives', async () => {
  let requests = 0;
  const retries: string[] = [];
  await withServer(
    (req, res) => {
      if (++requests <= 4) return void req.socket.destroy(); // the server drops the connection
      res.end(PACKAGE);
    },
    async (url) => {
      const { retry, pauses } = recordedRetry();
      const bytes = await download(url, { retry: { ...retry, onRetry: (r) => retries.push(`${r.attempt}:${r.error.message}`) } });
      assert.ok(bytes.equals(PACKAGE));
      assert.equal(requests, 5);
      assert.deepEqual(pauses, expectedPauses(4));
      pauses.forEach((p, i) => assert.ok(p >= 0 && p < 250 * 2 ** i, `pause ${i + 1} (${p} ms) within its ceiling`));
      assert.equal(retries.length, 4);
      assert.match(retries[0], /^1:cannot download the package: fetch failed \(other side closed\)/);
    },
  );
});

test('the ceiling of a pause doubles up to maxDelayMs and the jitter covers the whole range', () => {
  const top = { baseDelayMs: 250, maxDelayMs: 8000, random: () => 0.999999 };
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 40].map((n) => backoffDelay(n, top)), [249, 499, 999, 1999, 3999, 7999, 7999, 7999]);
  assert.equal(backoffDelay(3, { ...top, random: () => 0 }), 0);
});

test('a refused connection, a 503 and a body cut off part-way are each retried: the server restarting', async () => {
  // The server is down for the first two attempts (connection refused), then answers 503, then cuts the body, then serves.
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  server.close();
  await once(server, 'close');
  let requests = 0;
  const replacement = createServer((_req, res) => {
    requests++;
    if (requests === 1) {
      res.writeHead(503, { 'retry-after': '1' });
      return void res.end('SlowDown');
    }
    res.writeHead(200, { 'content-length': String(PACKAGE.length) });
    if (requests === 2) {
      res.write(PACKAGE.subarray(0, 100));
      return void setImmediate(() => res.destroy());
    }
    res.end(PACKAGE);
  });
  const { retry, pauses } = recordedRetry(11);
  const messages: string[] = [];
  try {
    const bytes = await download(`http://127.0.0.1:${port}/package.tar.gz`, {
      retry: {
        ...retry,
        onRetry: (r) => messages.push(r.error.message),
        sleep: async (ms) => {
          await retry.sleep?.(ms);
          if (pauses.length === 2) {
            replacement.listen(port, '127.0.0.1');
            await once(replacement, 'listening');
          }
        },
      },
    });
    assert.ok(bytes.equals(PACKAGE));
  } finally {
    replacement.closeAllConnections();
    replacement.close();
  }
  assert.equal(requests, 3);
  assert.equal(pauses.length, 4);
  assert.match(messages[0], /ECONNREFUSED/);
  assert.match(messages[1], /ECONNREFUSED/);
  assert.match(messages[2], /HTTP 503/);
  assert.match(messages[3], /broke off after 100 bytes/);
});

test('403, 404 and a package over the size limit are permanent: one request, no pause, the cause named', async () => {
  for (const [status, expected] of [
    [403, /HTTP 403/],
    [404, /HTTP 404/],
    [200, /package is 16000 bytes \(limit 1000\)/],
  ] as const) {
    let requests = 0;
    await withServer(
      (_req, res) => {
        requests++;
        res.writeHead(status, { 'content-length': String(PACKAGE.length) });
        res.end(PACKAGE);
      },
      async (url) => {
        const { retry, pauses } = recordedRetry();
        await assert.rejects(download(url, { maxBytes: 1000, retry }), (err) => {
          assert.ok(err instanceof DownloadFailed && !err.transient, String(err));
          return rejectedAs(expected)(err);
        });
        assert.equal(requests, 1, `HTTP ${status}: one request`);
        assert.deepEqual(pauses, []);
      },
    );
  }
});

test('a transient error followed by a permanent one stops at the permanent one', async () => {
  let requests = 0;
  await withServer(
    (req, res) => {
      if (++requests === 1) return void req.socket.destroy();
      res.writeHead(404);
      res.end();
    },
    async (url) => {
      const { retry } = recordedRetry();
      await assert.rejects(download(url, { retry }), rejectedAs(/failed after 2 attempts in \d+\.\d s \(stopped by a permanent error\); last error: package download answered HTTP 404/));
      assert.equal(requests, 2);
    },
  );
});

/** A server that drops every connection before answering; fn gets its URL and the count of requests so far. */
async function withDroppingServer(fn: (url: string, requests: () => number) => Promise<void>): Promise<void> {
  let requests = 0;
  await withServer(
    (req) => {
      requests++;
      req.socket.destroy();
    },
    (url) => fn(url, () => requests),
  );
}

test('a server that keeps dropping connections fails once the time budget is spent, naming attempts and the last error', async () => {
  await withDroppingServer(async (url, requests) => {
      const { retry, pauses, clock } = recordedRetry(3);
      await assert.rejects(
        download(url, { timeoutMs: 30_000, retry }),
        rejectedAs(/failed after \d+ attempts in \d+\.\d s \(stopped by the time budget of 30\.0 s\); last error: cannot download the package: fetch failed \(other side closed\)/),
      );
      assert.equal(requests(), pauses.length + 1, 'one request per attempt');
      assert.deepEqual(pauses, expectedPauses(pauses.length, 3));
      assert.ok(clock.ms < 30_000, 'no pause runs past the budget');
      assert.ok(pauses.length >= 5, `several retries fit in the budget (${pauses.length})`);
  });
});

test('maxAttempts bounds the attempts; an abort (the agent stopping) ends a pause between attempts at once', async () => {
  await withDroppingServer(async (url, requests) => {
      const { retry } = recordedRetry();
      await assert.rejects(download(url, { retry: { ...retry, maxAttempts: 3 } }), rejectedAs(/failed after 3 attempts .*stopped by the limit of 3 attempts/));
      assert.equal(requests(), 3);
      // A real pause of about an hour, cut short by the abort: the promise settles without waiting it out.
      const stopping = new AbortController();
      const done = download(url, { signal: stopping.signal, timeoutMs: 7_200_000, retry: { baseDelayMs: 3_600_000, maxDelayMs: 3_600_000, random: () => 0.99, onRetry: () => stopping.abort(new Error('the agent stopped')) } });
      await assert.rejects(done, rejectedAs(/failed after 1 attempt in \d+\.\d s \(stopped by the agent stopped\)/));
  });
});
