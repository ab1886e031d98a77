/**
 * Publishing Greengrass components, as an operator does against the local cloud or AWS: upload each
 * artifact to S3 under components/<name>/<version>/, point the recipe's artifact URIs at it, and
 * CreateComponentVersion with the recipe inline. Re-publishing a version that exists with the same
 * recipe is a no-op; with a different recipe it is refused (versions are immutable, as in AWS).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { CreateComponentVersionCommand, GetComponentCommand, type GreengrassV2Client } from '@aws-sdk/client-greengrassv2';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import YAML from 'yaml';
import { field, parseRecipeText } from '../../greengrass/recipe';

type Obj = Record<string, unknown>;

/** What publishComponent needs. */
export interface PublishOptions {
  gg: GreengrassV2Client;
  s3: S3Client;
  bucket: string;
  /** Recipe text (YAML or JSON) or object. */
  recipe: string | Obj;
  /** Local files to upload, by the artifact file name the recipe's URIs end with. */
  artifacts?: Record<string, string>;
  region: string;
  accountId: string;
}

/** What publishComponent did. */
export interface PublishedComponent {
  name: string;
  version: string;
  arn: string;
  created: boolean;
}

/** Rewrite every artifact URI whose file name is in files to s3://bucket/components/<name>/<version>/<file>. */
export function pointArtifactsAt(recipe: Obj, bucket: string, files: string[]): Obj {
  const copy = JSON.parse(JSON.stringify(recipe)) as Obj;
  const prefix = `components/${String(field(copy, 'ComponentName'))}/${String(field(copy, 'ComponentVersion'))}`;
  const manifests = field(copy, 'Manifests');
  for (const m of Array.isArray(manifests) ? (manifests as Obj[]) : []) {
    const artifacts = field(m, 'Artifacts');
    for (const a of Array.isArray(artifacts) ? (artifacts as Obj[]) : []) {
      const key = Object.keys(a).find((k) => k.toLowerCase() === 'uri') ?? 'URI';
      const file = basename(String(a[key]));
      if (files.includes(file)) a[key] = `s3://${bucket}/${prefix}/${file}`;
    }
  }
  return copy;
}

/** Upload the artifacts and create the component version (or find the identical one). */
export async function publishComponent(opts: PublishOptions): Promise<PublishedComponent> {
  const raw = typeof opts.recipe === 'string' ? parseRecipeText(opts.recipe) : opts.recipe;
  const files = opts.artifacts ?? {};
  const recipe = pointArtifactsAt(raw, opts.bucket, Object.keys(files));
  const name = String(field(recipe, 'ComponentName'));
  const version = String(field(recipe, 'ComponentVersion'));
  for (const [file, path] of Object.entries(files)) {
    await opts.s3.send(new PutObjectCommand({ Bucket: opts.bucket, Key: `components/${name}/${version}/${file}`, Body: await readFile(path) }));
  }
  const arn = `arn:aws:greengrass:${opts.region}:${opts.accountId}:components:${name}:versions:${version}`;
  try {
    await opts.gg.send(new CreateComponentVersionCommand({ inlineRecipe: Buffer.from(JSON.stringify(recipe)) }));
    return { name, version, arn, created: true };
  } catch (err) {
    if ((err as Error).name !== 'ConflictException') throw err;
    const existing = await opts.gg.send(new GetComponentCommand({ arn, recipeOutputFormat: 'JSON' }));
    const stored = JSON.parse(Buffer.from(existing.recipe as Uint8Array).toString('utf8')) as Obj;
    if (!sameRecipe(stored, recipe)) throw new Error(`${name} ${version} already exists with a different recipe; give the new recipe a new ComponentVersion`);
    return { name, version, arn, created: false };
  }
}

/** Equal recipes, ignoring the Digest and Algorithm the service adds to artifacts. */
function sameRecipe(a: Obj, b: Obj): boolean {
  const strip = (o: Obj): string => JSON.stringify(o, (k, v) => (k === 'Digest' || k === 'Algorithm' ? undefined : v));
  return strip(a) === strip(b);
}

/** Read a recipe file (YAML or JSON) into an object. */
export async function readRecipeFile(path: string): Promise<Obj> {
  const text = await readFile(path, 'utf8');
  return path.endsWith('.json') ? (JSON.parse(text) as Obj) : (YAML.parse(text) as Obj);
}
