/**
 * Downloading a model package with its size limited while it streams: a declared Content-Length over the
 * limit is refused before the body is read, and a body that grows past the limit (no length, or a server
 * that keeps sending) is cancelled at the chunk that would cross it, so the agent never holds more than
 * the limit of package bytes.
 */
import { ModelRejected } from './model-package';

/** Largest package the agent downloads. */
export const MAX_DOWNLOAD_BYTES = 128 * 1024 * 1024;

/** Options of download(). */
export interface DownloadOptions {
  /** Give up after this long (ms). Default 120 s. */
  timeoutMs?: number;
  /** Refuse a package larger than this. Default MAX_DOWNLOAD_BYTES. */
  maxBytes?: number;
}

/** GETs a package; throws ModelRejected('download-failed') naming the status, the error or the size limit. */
export async function download(url: string, options: DownloadOptions = {}): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? MAX_DOWNLOAD_BYTES;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no complete package within ${options.timeoutMs ?? 120_000} ms`)), options.timeoutMs ?? 120_000);
  try {
    let res: Response;
    try {
      res = await fetch(url, { signal: controller.signal });
    } catch (err) {
      throw new ModelRejected('download-failed', `cannot download the package: ${(err as Error).message}`);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new ModelRejected('download-failed', `package download answered HTTP ${res.status} ${res.statusText}`);
    }
    const declared = res.headers.get('content-length');
    const length = declared === null ? undefined : Number(declared);
    if (length !== undefined && length > maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw new ModelRejected('download-failed', `package is ${length} bytes (limit ${maxBytes})`);
    }
    return await readLimited(res, maxBytes, length);
  } finally {
    clearTimeout(timer);
  }
}

/** The body's bytes, cancelling the transfer at the first chunk that would take it past maxBytes. */
async function readLimited(res: Response, maxBytes: number, declaredLength: number | undefined): Promise<Buffer> {
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  // With a declared length the bytes go straight into one buffer (no second copy at the end).
  const whole = declaredLength !== undefined && Number.isSafeInteger(declaredLength) ? Buffer.alloc(declaredLength) : undefined;
  const chunks: Uint8Array[] = [];
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (received + value.length > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new ModelRejected('download-failed', `package is larger than the limit of ${maxBytes} bytes (stopped after ${received + value.length} bytes)`);
      }
      if (whole) {
        if (received + value.length > whole.length) throw new Error(`more bytes than the declared Content-Length ${whole.length}`);
        whole.set(value, received);
      } else chunks.push(value);
      received += value.length;
    }
  } catch (err) {
    if (err instanceof ModelRejected) throw err;
    await reader.cancel().catch(() => undefined);
    throw new ModelRejected('download-failed', `package download broke off: ${(err as Error).message}`);
  }
  if (whole) {
    if (received !== whole.length) throw new ModelRejected('download-failed', `package download broke off after ${received} of ${whole.length} bytes`);
    return whole;
  }
  return Buffer.concat(chunks, received);
}
