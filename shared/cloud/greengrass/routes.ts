/**
 * REST routes of Greengrass v2 (restJson1, SigV4 service `greengrass`) under /greengrass/v2, as
 * `@aws-sdk/client-greengrassv2` calls them: JSON bodies, timestamps in epoch seconds, ARNs in the path
 * percent-encoded (the router decodes them), lists paged by maxResults (1-100) and nextToken.
 */
import type { RestRoute, ServiceResponse, SignedRequest } from '../contracts';
import type { componentOperations } from './components';
import type { coreDeviceOperations } from './core-devices';
import type { deploymentOperations } from './deployments';
import { validation } from './errors';

type Obj = Record<string, unknown>;
const G = '/greengrass/v2';

function json(body: Obj, status = 200): ServiceResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function parseBody(req: SignedRequest): Obj {
  if (req.body.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(req.body.toString('utf8'));
  } catch (err) {
    throw validation(`The request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw validation('The request body must be a JSON object');
  return v as Obj;
}

/** One page of items (nextToken is an opaque offset). */
function page<T>(req: SignedRequest, items: T[]): { page: T[]; nextToken?: string } {
  const maxText = req.query.get('maxResults');
  const max = maxText === null ? 50 : Number(maxText);
  if (!Number.isInteger(max) || max < 1 || max > 100) throw validation(`maxResults must be a whole number from 1 to 100, got ${maxText}`, [{ name: 'maxResults', message: 'out of range' }]);
  const token = req.query.get('nextToken');
  let start = 0;
  if (token !== null) {
    const m = /^gg:(\d+)$/.exec(Buffer.from(token, 'base64').toString('utf8'));
    if (!m) throw validation(`nextToken ${token} is not a token this API returned`, [{ name: 'nextToken', message: 'unknown token' }]);
    start = Number(m[1]);
  }
  const slice = items.slice(start, start + max);
  const end = start + slice.length;
  return end < items.length ? { page: slice, nextToken: Buffer.from(`gg:${end}`).toString('base64') } : { page: slice };
}

/** Every Greengrass v2 route of the local cloud. */
export function greengrassRoutes(ops: {
  components: ReturnType<typeof componentOperations>;
  deployments: ReturnType<typeof deploymentOperations>;
  coreDevices: ReturnType<typeof coreDeviceOperations>;
}): RestRoute[] {
  const { components: c, deployments: d, coreDevices: cd } = ops;
  const route = (method: string, path: string, action: string, handler: (req: SignedRequest, p: Record<string, string>) => Promise<ServiceResponse> | ServiceResponse): RestRoute => ({
    method,
    path: `${G}${path}`,
    action,
    handler: async (req, p) => handler(req, p),
  });
  const q = (req: SignedRequest, name: string): string | null => req.query.get(name);
  return [
    route('POST', '/createComponentVersion', 'CreateComponentVersion', async (req) => json(await c.createComponentVersion(parseBody(req)), 201)),
    route('GET', '/components/{arn}/metadata', 'DescribeComponent', (_req, p) => json(c.describeComponent(p.arn))),
    route('GET', '/components/{arn}/versions', 'ListComponentVersions', (req, p) => {
      const { page: componentVersions, nextToken } = page(req, c.listComponentVersions(p.arn));
      return json({ componentVersions, nextToken });
    }),
    route('GET', '/components/{arn}', 'GetComponent', (req, p) => json(c.getComponent(p.arn, q(req, 'recipeOutputFormat')))),
    route('GET', '/components', 'ListComponents', (req) => {
      const { page: components, nextToken } = page(req, c.listComponents(q(req, 'scope')));
      return json({ components, nextToken });
    }),
    route('DELETE', '/components/{arn}', 'DeleteComponent', (_req, p) => {
      c.deleteComponent(p.arn);
      return { status: 204 };
    }),
    route('POST', '/deployments', 'CreateDeployment', async (req) => json(await d.createDeployment(parseBody(req)), 201)),
    route('GET', '/deployments/{deploymentId}', 'GetDeployment', (_req, p) => json(d.getDeployment(p.deploymentId))),
    route('GET', '/deployments', 'ListDeployments', (req) => {
      const { page: deployments, nextToken } = page(req, d.listDeployments(q(req, 'targetArn'), q(req, 'historyFilter')));
      return json({ deployments, nextToken });
    }),
    route('POST', '/deployments/{deploymentId}/cancel', 'CancelDeployment', async (_req, p) => json(await d.cancelDeployment(p.deploymentId))),
    route('GET', '/coreDevices/{coreDeviceThingName}/effectiveDeployments', 'ListEffectiveDeployments', (req, p) => {
      const { page: effectiveDeployments, nextToken } = page(req, d.listEffectiveDeployments(p.coreDeviceThingName, cd.known(p.coreDeviceThingName)));
      return json({ effectiveDeployments, nextToken });
    }),
    route('GET', '/coreDevices/{coreDeviceThingName}/installedComponents', 'ListInstalledComponents', (req, p) => {
      const { page: installedComponents, nextToken } = page(req, cd.listInstalledComponents(p.coreDeviceThingName, q(req, 'topologyFilter')));
      return json({ installedComponents, nextToken });
    }),
    route('GET', '/coreDevices/{coreDeviceThingName}', 'GetCoreDevice', (_req, p) => json(cd.getCoreDevice(p.coreDeviceThingName))),
    route('GET', '/coreDevices', 'ListCoreDevices', (req) => {
      const { page: coreDevices, nextToken } = page(req, cd.listCoreDevices(q(req, 'thingGroupArn'), q(req, 'status')));
      return json({ coreDevices, nextToken });
    }),
  ];
}
