import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RestRoute } from '../contracts';
import { Router, compileRoute } from './router';
import { parseQuery } from './server';

const ok = async () => ({ status: 200 });
const route = (method: string, path: string, action: string): RestRoute => ({ method, path, action, handler: ok });

function s3Router(): Router {
  const r = new Router();
  r.add('s3', [
    route('GET', '/', 'ListBuckets'),
    route('PUT', '/{Bucket}', 'CreateBucket'),
    route('GET', '/{Bucket}?list-type=2', 'ListObjectsV2'),
    route('GET', '/{Bucket}', 'ListObjects'),
    route('POST', '/{Bucket}/{Key+}?uploads', 'CreateMultipartUpload'),
    route('PUT', '/{Bucket}/{Key+}?partNumber&uploadId', 'UploadPart'),
    route('PUT', '/{Bucket}/{Key+}', 'PutObject'),
    route('GET', '/{Bucket}/{Key+}', 'GetObject'),
  ]);
  r.add('iot-jobs-data', [route('GET', '/things/{thingName}/jobs/{jobId}', 'DescribeJobExecution'), route('GET', '/things/{thingName}/jobs', 'GetPendingJobExecutions')]);
  r.add('sagemaker', [route('POST', '/', 'CreateDeviceFleet')]);
  return r;
}

test('routes match by method, path template and query, most specific first', () => {
  const r = s3Router();
  const m = (method: string, url: string) => {
    const [path, q = ''] = url.split('?');
    const found = r.match('s3', method, path, parseQuery(q));
    return found && { action: found.route.action, params: found.params };
  };
  assert.deepEqual(m('GET', '/'), { action: 'ListBuckets', params: {} });
  assert.deepEqual(m('GET', '/b?list-type=2&prefix=x'), { action: 'ListObjectsV2', params: { Bucket: 'b' } });
  assert.deepEqual(m('GET', '/b/'), { action: 'ListObjects', params: { Bucket: 'b' } });
  assert.deepEqual(m('GET', '/b/dir/a%20b/'), { action: 'GetObject', params: { Bucket: 'b', Key: 'dir/a b/' } });
  assert.deepEqual(m('POST', '/b/k?uploads'), { action: 'CreateMultipartUpload', params: { Bucket: 'b', Key: 'k' } });
  assert.deepEqual(m('PUT', '/b/k?partNumber=1&uploadId=u'), { action: 'UploadPart', params: { Bucket: 'b', Key: 'k' } });
  assert.deepEqual(m('PUT', '/b/k'), { action: 'PutObject', params: { Bucket: 'b', Key: 'k' } });
  assert.equal(m('POST', '/b/k'), undefined);
  assert.equal(m('DELETE', '/'), undefined);
});

test('awsJson operations match by X-Amz-Target, unknown ones do not', () => {
  const r = s3Router();
  assert.equal(r.match('sagemaker', 'POST', '/', new URLSearchParams(), 'SageMaker.CreateDeviceFleet')?.route.action, 'CreateDeviceFleet');
  assert.equal(r.match('sagemaker', 'POST', '/', new URLSearchParams(), 'SageMaker.Nope'), undefined);
  assert.equal(r.match('nothing', 'GET', '/', new URLSearchParams()), undefined);
});

test('unsigned requests are attributed to the service whose routes match, else s3', () => {
  const r = s3Router();
  assert.equal(r.guessService('GET', '/things/t1/jobs', new URLSearchParams()), 'iot-jobs-data');
  assert.equal(r.guessService('GET', '/bucket/key', new URLSearchParams()), 's3');
  assert.equal(r.protocolOf('s3'), 'restXml');
  assert.equal(r.protocolOf('iot'), 'restJson1');
  assert.equal(r.protocolOf('sagemaker'), 'awsJson1.1');
});

test('malformed templates are refused with the route named', () => {
  assert.throws(() => compileRoute(route('GET', 'things', 'X')), /route X: path "things" must start/);
  assert.throws(() => compileRoute(route('GET', '/{a+}/b', 'Y')), /route Y: greedy/);
  assert.throws(() => compileRoute(route('GET', '/a{b}', 'Z')), /route Z: segment "a\{b\}"/);
});

test('virtual-hosted-style S3 hosts map to path-style paths', async () => {
  const { s3PathStyle } = await import('./server');
  assert.equal(s3PathStyle('/key/a.txt', 'models.localhost:4566'), '/models/key/a.txt');
  assert.equal(s3PathStyle('/', 'models.s3.localhost:4566'), '/models');
  assert.equal(s3PathStyle('/models/key', '127.0.0.1:4566'), '/models/key');
  assert.equal(s3PathStyle('/models/key', undefined), '/models/key');
});
