/**
 * Job documents: size and JSON checks, S3 URLs as AWS IoT accepts them (document sources and
 * `${aws:iot:s3-presigned-url:<url>}` placeholders), and replacing placeholders with pre-signed GET URLs
 * each time a document goes to a device.
 */
import { invalidRequest } from './errors';

/** AWS limit on a job document: 32 KB. */
export const MAX_DOCUMENT_BYTES = 32 * 1024;

/** Default expiry of pre-signed URLs in job documents when presignedUrlConfig says none (AWS: 3600 s). */
export const DEFAULT_PRESIGN_SECONDS = 3600;

const PLACEHOLDER = /\$\{aws:iot:s3-presigned-url:([^}]*)\}/g;

/** Checks a job document: at most 32 KB of UTF-8 and a JSON object; throws InvalidRequestException naming what is wrong. */
export function checkDocument(document: string, where: string): void {
  const bytes = Buffer.byteLength(document, 'utf8');
  if (bytes > MAX_DOCUMENT_BYTES) {
    throw invalidRequest(`${where}: the job document has ${bytes} bytes; the limit is ${MAX_DOCUMENT_BYTES} bytes (32 KB)`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch (err) {
    throw invalidRequest(`${where}: the job document is not valid JSON (${(err as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalidRequest(`${where}: the job document must be a JSON object`);
  }
  for (const m of document.matchAll(PLACEHOLDER)) {
    if (!parseS3Url(m[1])) {
      throw invalidRequest(`${where}: placeholder \${aws:iot:s3-presigned-url:${m[1]}} does not hold an S3 URL such as https://s3.amazonaws.com/<bucket>/<key>`);
    }
  }
}

/**
 * Bucket and key of an S3 object URL in one of the forms AWS IoT accepts: path style
 * `https://s3.amazonaws.com/b/k`, `https://s3.<region>.amazonaws.com/b/k`, `https://s3-<region>.amazonaws.com/b/k`,
 * or virtual-hosted `https://b.s3[.<region>].amazonaws.com/k`. Undefined for anything else.
 */
export function parseS3Url(text: string): { bucket: string; key: string } | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:') return undefined;
  const host = url.hostname;
  const path = url.pathname.replace(/^\//, '');
  const decode = (s: string): string | undefined => {
    try {
      return decodeURIComponent(s);
    } catch {
      return undefined;
    }
  };
  if (/^s3([.-][a-z0-9-]+)?\.amazonaws\.com$/.test(host)) {
    const slash = path.indexOf('/');
    if (slash <= 0 || slash === path.length - 1) return undefined;
    const bucket = path.slice(0, slash);
    const key = decode(path.slice(slash + 1));
    return key === undefined ? undefined : { bucket, key };
  }
  const vhost = /^([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\.s3([.-][a-z0-9-]+)?\.amazonaws\.com$/.exec(host);
  if (vhost && path.length > 0) {
    const key = decode(path);
    return key === undefined ? undefined : { bucket: vhost[1], key };
  }
  return undefined;
}

/** True when the document holds at least one pre-signed URL placeholder. */
export function hasPlaceholders(document: string): boolean {
  PLACEHOLDER.lastIndex = 0;
  return PLACEHOLDER.test(document);
}

/**
 * Replaces every `${aws:iot:s3-presigned-url:<url>}` with a pre-signed GET URL of that object, valid for
 * expiresInSec. The URL goes into a JSON string, so it is escaped as one.
 */
export async function resolvePlaceholders(
  document: string,
  presign: (bucket: string, key: string, expiresInSec: number) => Promise<string>,
  expiresInSec: number,
): Promise<string> {
  const found = [...document.matchAll(PLACEHOLDER)];
  if (found.length === 0) return document;
  const urls = await Promise.all(
    found.map((m) => {
      const target = parseS3Url(m[1]);
      // checkDocument refused unparsable placeholders at creation; leave any other text untouched.
      return target ? presign(target.bucket, target.key, expiresInSec) : Promise.resolve(m[0]);
    }),
  );
  let i = 0;
  return document.replace(PLACEHOLDER, () => JSON.stringify(urls[i++]).slice(1, -1));
}

/** CreateJob's documentSource: reads and checks the S3 object it names; errors are InvalidRequest. */
export async function readDocumentSource(source: string, readS3Object: ((bucket: string, key: string) => Promise<string>) | undefined): Promise<string> {
  const target = parseS3Url(source);
  if (!target) throw invalidRequest(`documentSource "${source}" is not an S3 object URL such as https://s3.amazonaws.com/<bucket>/<key>`);
  if (!readS3Object) throw invalidRequest('documentSource needs the S3 service, which is not installed');
  let text: string;
  try {
    text = await readS3Object(target.bucket, target.key);
  } catch (err) {
    throw invalidRequest(`documentSource ${source} could not be read: ${(err as Error).message}`);
  }
  checkDocument(text, `documentSource ${source}`);
  return text;
}
