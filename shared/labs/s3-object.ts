/** Reading one S3 object whole, by its s3:// URI (model artifacts, packages, captured batches). */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { splitS3Uri } from '../workflows/sagemaker/edge-packaging';

/** The bytes of s3://bucket/key; throws on a malformed URI or a missing object. */
export async function s3ObjectBytes(s3: S3Client, uri: string): Promise<Buffer> {
  const { bucket, key } = splitS3Uri(uri);
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!out.Body) throw new Error(`${uri} has no body`);
  return Buffer.from(await out.Body.transformToByteArray());
}
