/**
 * S3 multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload,
 * ListParts and ListMultipartUploads. Every part but the last must hold at least the minimum part size;
 * the completed object's ETag is as AWS computes it: md5 of the parts' md5s, with "-N".
 */
import { createHash, randomBytes } from 'node:crypto';
import type { RestRoute } from '../contracts';
import { AwsError } from '../http/errors';
import { escapeUri } from '../http/sigv4';
import { objectHeadersFrom, verifyBodyDigests } from './object-headers';
import type { PartRecord, UploadRecord } from './object-store';
import { iso, maxKeysOf, OWNER, requestHeader as header, unquote, validateKey, xmlResponse as xml, type S3RouteContext } from './route-context';
import { readXmlDocument, s3Xml, xmlChildElements, xmlChildText } from './xml';

const MAX_PART_NUMBER = 10000;

/** The multipart upload routes. */
export function multipartRoutes(ctx: S3RouteContext): RestRoute[] {
  const { storage, clock, minPartSize, requireBucket, requireUpload, commitObject } = ctx;
  return [
    {
      method: 'GET',
      path: '/{Bucket}?uploads',
      action: 'ListMultipartUploads',
      handler: async (req, p) => {
        requireBucket(p.Bucket);
        const prefix = req.query.get('prefix') ?? '';
        const uploads = storage.uploads
          .values()
          .filter((u) => u.bucket === p.Bucket && u.key.startsWith(prefix))
          .sort((a, b) => (a.key === b.key ? a.initiated - b.initiated : a.key < b.key ? -1 : 1));
        return xml(
          200,
          s3Xml('ListMultipartUploadsResult', {
            Bucket: p.Bucket,
            KeyMarker: '',
            UploadIdMarker: '',
            Prefix: prefix,
            MaxUploads: 1000,
            IsTruncated: false,
            Upload: uploads.map((u) => ({ Key: u.key, UploadId: u.uploadId, Initiator: OWNER, Owner: OWNER, StorageClass: 'STANDARD', Initiated: iso(u.initiated) })),
          }),
        );
      },
    },
    {
      method: 'POST',
      path: '/{Bucket}/{Key+}?uploads',
      action: 'CreateMultipartUpload',
      handler: async (req, p) => {
        requireBucket(p.Bucket);
        validateKey(p.Key);
        const uploadId = randomBytes(24).toString('base64url');
        const upload: UploadRecord = { ...objectHeadersFrom(req), uploadId, bucket: p.Bucket, key: p.Key, initiated: clock.now(), parts: {} };
        storage.uploads.put(uploadId, upload);
        return xml(200, s3Xml('InitiateMultipartUploadResult', { Bucket: p.Bucket, Key: p.Key, UploadId: uploadId }));
      },
    },
    {
      method: 'PUT',
      path: '/{Bucket}/{Key+}?partNumber&uploadId',
      action: 'UploadPart',
      handler: async (req, p) => {
        const upload = requireUpload(p.Bucket, p.Key, req.query.get('uploadId'));
        const partNumber = Number(req.query.get('partNumber'));
        if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
          throw new AwsError('InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`, 400, { ArgumentName: 'partNumber' });
        }
        if (header(req, 'x-amz-copy-source') !== undefined) throw new AwsError('NotImplemented', 'UploadPartCopy is not supported by the local cloud.', 501);
        verifyBodyDigests(req, req.body);
        const written = await storage.writeData(req.body);
        const part: PartRecord = { partNumber, etag: `"${written.md5}"`, size: written.size, lastModified: clock.now(), file: written.file };
        // The upload may have been completed or aborted while the part was written.
        const current = storage.uploads.get(upload.uploadId);
        if (!current) {
          await storage.releaseFiles([written.file]);
          throw new AwsError('NoSuchUpload', 'The specified upload does not exist.', 404, { UploadId: upload.uploadId });
        }
        const replaced = current.parts[String(partNumber)];
        current.parts[String(partNumber)] = part;
        storage.uploads.put(current.uploadId, current);
        if (replaced) await storage.releaseFiles([replaced.file]);
        return { status: 200, headers: { etag: part.etag } };
      },
    },
    {
      method: 'POST',
      path: '/{Bucket}/{Key+}?uploadId',
      action: 'CompleteMultipartUpload',
      handler: async (req, p) => {
        const upload = requireUpload(p.Bucket, p.Key, req.query.get('uploadId'));
        const doc = readXmlDocument(req.body, 'CompleteMultipartUpload', ['Part']);
        const listed = xmlChildElements(doc, 'Part').map((x) => ({ partNumber: Number(xmlChildText(x, 'PartNumber')), etag: unquote(xmlChildText(x, 'ETag') ?? '') }));
        if (listed.length === 0) throw new AwsError('MalformedXML', 'The XML you provided was not well-formed: CompleteMultipartUpload lists no <Part>.', 400);
        const parts: PartRecord[] = [];
        listed.forEach((l, i) => {
          if (i > 0 && l.partNumber <= listed[i - 1].partNumber) {
            throw new AwsError('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.', 400, { UploadId: upload.uploadId });
          }
          const part = upload.parts[String(l.partNumber)];
          if (!part || unquote(part.etag) !== l.etag) {
            throw new AwsError('InvalidPart', `One or more of the specified parts could not be found (part ${l.partNumber}). The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.`, 400, {
              UploadId: upload.uploadId,
              PartNumber: l.partNumber,
            });
          }
          parts.push(part);
        });
        parts.forEach((part, i) => {
          if (i < parts.length - 1 && part.size < minPartSize) {
            throw new AwsError('EntityTooSmall', `Your proposed upload is smaller than the minimum allowed size: part ${part.partNumber} has ${part.size} bytes, every part but the last needs ${minPartSize}.`, 400, {
              PartNumber: part.partNumber,
              ProposedSize: part.size,
              MinSizeAllowed: minPartSize,
            });
          }
        });
        async function* concatenated(): AsyncIterable<Buffer> {
          for (const part of parts) for await (const chunk of storage.readData(part.file)) yield chunk as Buffer;
        }
        const written = await storage.writeData(concatenated());
        const md5s = Buffer.concat(parts.map((part) => Buffer.from(unquote(part.etag), 'hex')));
        const etag = `"${createHash('md5').update(md5s).digest('hex')}-${parts.length}"`;
        const { uploadId: _id, bucket: _b, key: _k, initiated: _i, parts: allParts, ...headers } = upload;
        storage.uploads.delete(upload.uploadId);
        await commitObject({ ...headers, bucket: p.Bucket, key: p.Key, size: written.size, etag, lastModified: clock.now(), file: written.file });
        await storage.releaseFiles(Object.values(allParts).map((part) => part.file));
        return xml(
          200,
          s3Xml('CompleteMultipartUploadResult', {
            Location: `/${p.Bucket}/${escapeUri(p.Key).replace(/%2F/g, '/')}`,
            Bucket: p.Bucket,
            Key: p.Key,
            ETag: etag,
          }),
        );
      },
    },
    {
      method: 'DELETE',
      path: '/{Bucket}/{Key+}?uploadId',
      action: 'AbortMultipartUpload',
      handler: async (req, p) => {
        const upload = requireUpload(p.Bucket, p.Key, req.query.get('uploadId'));
        storage.uploads.delete(upload.uploadId);
        await storage.releaseFiles(Object.values(upload.parts).map((part) => part.file));
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/{Bucket}/{Key+}?uploadId',
      action: 'ListParts',
      handler: async (req, p) => {
        const upload = requireUpload(p.Bucket, p.Key, req.query.get('uploadId'));
        const maxParts = maxKeysOf(req.query, 'max-parts');
        const marker = Number(req.query.get('part-number-marker') ?? 0);
        const all = Object.values(upload.parts)
          .filter((part) => part.partNumber > marker)
          .sort((a, b) => a.partNumber - b.partNumber);
        const shown = all.slice(0, maxParts);
        const truncated = all.length > shown.length;
        return xml(
          200,
          s3Xml('ListPartsResult', {
            Bucket: p.Bucket,
            Key: p.Key,
            UploadId: upload.uploadId,
            Initiator: OWNER,
            Owner: OWNER,
            StorageClass: 'STANDARD',
            PartNumberMarker: marker,
            NextPartNumberMarker: shown.length ? shown[shown.length - 1].partNumber : marker,
            MaxParts: maxParts,
            IsTruncated: truncated,
            Part: shown.map((part) => ({ PartNumber: part.partNumber, LastModified: iso(part.lastModified), ETag: part.etag, Size: part.size })),
          }),
        );
      },
    },
  ];
}
