/**
 * Downloading a model package with its size limited while it streams, retrying transient failures.
 *
 * Size: a declared Content-Length over the limit is refused before the body is read, and a body that
 * grows past the limit (no length, or a server that keeps sending) is cancelled at the chunk that would
 * cross it, so the agent never holds more than the limit of package bytes.
 *
 * Retries: a refused or reset connection, a body cut off part-way, and HTTP 408 / 429 / 5xx are transient
 * (a cloud restarting, a proxy failing over): the download is tried again after a bounded exponential
 * backoff with full jitter, until it succeeds or the time budget (timeoutMs, counted from the first
 * attempt, attempts included) is spent. Anything else (HTTP 403 / 404, a package over the size limit, a
 * URL that cannot be fetched at all) is permanent and fails at once; so does a hash mismatch, which the
 * caller checks on the bytes. Every failure is ModelRejected('download-failed') with the cause in words.
 */
import { ModelRejected } from './model-package';

/** Largest package the agent downloads. */
export const MAX_DOWNLOAD_BYTES = 128 * 1024 * 1024;

/** How a failed attempt is retried. */
export interface DownloadRetryOptions {
  /** Most attempts in all (default: no limit but the time budget). */
  maxAttempts: number;
  /** Ceiling of the first pause (ms); it doubles per retry (default 250). */
  baseDelayMs: number;
  /** Ceiling of any pause (ms) (default 8000). */
  maxDelayMs: number;
  /** Uniform [0, 1) numbers for the jitter (default Math.random; seed it in tests). */
  random: () => number;
  /** Pause (default a timer); tests replace it to record the schedule without waiting. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Clock for the budget (default Date.now). */
  now: () => number;
  /** Told before each pause, e.g. to log the retry. */
  onRetry?: (retry: { attempt: number; delayMs: number; error: DownloadFailed }) => void;
}

/** Options of download(). */
export interface DownloadOptions {
  /** Budget for the whole download, retries included (ms). Default 120 s. */
  timeoutMs?: number;
  /** Refuse a package larger than this. Default MAX_DOWNLOAD_BYTES. */
  maxBytes?: number;
  /** Stops the download (and any pause between attempts) when aborted, e.g. when the agent stops. */
  signal?: AbortSignal;
  /** Retry settings (defaults above). */
  retry?: Partial<DownloadRetryOptions>;
}

/** A failed download: ModelRejected('download-failed'), and whether trying again may help. */
export class DownloadFailed extends ModelRejected {
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super('download-failed', message);
  }
}

/** Error codes of a connection that failed or broke: the server may be back in a moment. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** HTTP statuses that say "try again later". */
const isTransientStatus = (status: number): boolean => status === 408 || status === 429 || (status >= 500 && status <= 599);

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** The pause before retry number `retry` (1-based): full jitter over min(maxDelay, base * 2^(retry-1)). */
export function backoffDelay(retry: number, options: Pick<DownloadRetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'random'>): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.min(retry - 1, 30));
  return Math.floor(options.random() * ceiling);
}

/** GETs a package, retrying transient failures within the budget; throws DownloadFailed naming the cause. */
export async function download(url: string, options: DownloadOptions = {}): Promise<Buffer> {
  const budgetMs = options.timeoutMs ?? 120_000;
  const retry: DownloadRetryOptions = { maxAttempts: Infinity, baseDelayMs: 250, maxDelayMs: 8000, random: Math.random, sleep: defaultSleep, now: Date.now, ...options.retry };
  const started = retry.now();
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new Error(`no complete package within ${budgetMs} ms`)), budgetMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
  const gaveUp = (attempt: number, last: DownloadFailed, why: string): DownloadFailed => {
    const stoppedBy = signal.aborted ? ((signal.reason as Error | undefined)?.message ?? 'aborted') : why;
    const spent = ((retry.now() - started) / 1000).toFixed(1);
    return new DownloadFailed(`package download failed after ${attempt} attempt${attempt === 1 ? '' : 's'} in ${spent} s (stopped by ${stoppedBy}); last error: ${last.message}`, false);
  };
  try {
    for (let attempt = 1; ; attempt++) {
      let error: DownloadFailed;
      try {
        return await downloadOnce(url, options.maxBytes ?? MAX_DOWNLOAD_BYTES, signal);
      } catch (err) {
        if (!(err instanceof DownloadFailed)) throw err;
        error = err;
      }
      if (attempt === 1 && (!error.transient || retry.maxAttempts <= 1)) throw error;
      if (!error.transient || signal.aborted) throw gaveUp(attempt, error, 'a permanent error');
      if (attempt >= retry.maxAttempts) throw gaveUp(attempt, error, `the limit of ${retry.maxAttempts} attempts`);
      const delayMs = backoffDelay(attempt, retry);
      if (retry.now() - started + delayMs >= budgetMs) throw gaveUp(attempt, error, `the time budget of ${(budgetMs / 1000).toFixed(1)} s`);
      retry.onRetry?.({ attempt, delayMs, error });
      await retry.sleep(delayMs, signal);
      if (signal.aborted) throw gaveUp(attempt, error, 'aborted');
    }
  } finally {
    clearTimeout(timer);
  }
}

/** The cause of a fetch failure in words, with its code (fetch itself only says "fetch failed"). */
function describeCause(err: unknown): { text: string; code: string | undefined } {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const code = e.cause?.code;
  const detail = e.cause?.message ?? code;
  return { text: detail && detail !== e.message ? `${e.message} (${detail})` : e.message, code };
}

/** One GET; throws DownloadFailed with `transient` set as the module comment says. */
async function downloadOnce(url: string, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  let res: Response;
  try {
    res = await fetch(url, { signal });
  } catch (err) {
    if (signal.aborted) throw new DownloadFailed(`cannot download the package: ${(signal.reason as Error | undefined)?.message ?? 'aborted'}`, false);
    const cause = describeCause(err);
    throw new DownloadFailed(`cannot download the package: ${cause.text}`, cause.code !== undefined && TRANSIENT_CODES.has(cause.code));
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new DownloadFailed(`package download answered HTTP ${res.status} ${res.statusText}`, isTransientStatus(res.status));
  }
  const declared = res.headers.get('content-length');
  const length = declared === null ? undefined : Number(declared);
  if (length !== undefined && length > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new DownloadFailed(`package is ${length} bytes (limit ${maxBytes})`, false);
  }
  return readLimited(res, maxBytes, length, signal);
}

/** The body's bytes, cancelling the transfer at the first chunk that would take it past maxBytes. */
async function readLimited(res: Response, maxBytes: number, declaredLength: number | undefined, signal: AbortSignal): Promise<Buffer> {
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
        throw new DownloadFailed(`package is larger than the limit of ${maxBytes} bytes (stopped after ${received + value.length} bytes)`, false);
      }
      if (whole) {
        if (received + value.length > whole.length) throw new DownloadFailed(`more bytes than the declared Content-Length ${whole.length}`, false);
        whole.set(value, received);
      } else chunks.push(value);
      received += value.length;
    }
  } catch (err) {
    await reader.cancel().catch(() => undefined);
    if (err instanceof DownloadFailed) throw err;
    if (signal.aborted) throw new DownloadFailed(`package download broke off after ${received} bytes: ${(signal.reason as Error | undefined)?.message ?? 'aborted'}`, false);
    throw new DownloadFailed(`package download broke off after ${received} bytes: ${describeCause(err).text}`, true);
  }
  if (whole && received !== whole.length) throw new DownloadFailed(`package download broke off after ${received} of ${whole.length} bytes`, true);
  return whole ?? Buffer.concat(chunks, received);
}
