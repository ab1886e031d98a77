/**
 * The REST routes of the AWS IoT registry (restJson1, SigV4 service `iot`), with the methods, paths,
 * query parameters, headers and body members `@aws-sdk/client-iot` uses. Handlers only decode the
 * request and encode the answer; the rules live in IotRegistry.
 */
import type { RestRoute, ServiceResponse, SignedRequest } from '../contracts';
import type { IotRegistry } from './registry';
import { invalidRequest } from './registry-errors';
import { quote } from './registry-validation';

/** The request body as a JSON object ({} when empty); anything else is InvalidRequestException. */
export function jsonBody(req: SignedRequest): Record<string, unknown> {
  if (req.body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(req.body.toString('utf8'));
  } catch (err) {
    throw invalidRequest(`The request body is not valid JSON: ${(err as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalidRequest('The request body must be a JSON object.');
  return value as Record<string, unknown>;
}

/** An optional query parameter as a string. */
function queryString(req: SignedRequest, name: string): string | undefined {
  return req.query.get(name) ?? undefined;
}

/** An optional boolean query parameter ('true' / 'false'). */
function queryBoolean(req: SignedRequest, name: string): boolean | undefined {
  const v = req.query.get(name);
  if (v === null) return undefined;
  if (v !== 'true' && v !== 'false') throw invalidRequest(`Query parameter ${name} must be true or false, got ${quote(v)}.`);
  return v === 'true';
}

/** An optional integer query parameter within [min, max]. */
function queryInteger(req: SignedRequest, name: string, min: number, max: number): number | undefined {
  const v = req.query.get(name);
  if (v === null) return undefined;
  const n = Number(v);
  if (!/^-?\d+$/.test(v) || n < min || n > max) throw invalidRequest(`Query parameter ${name} must be an integer from ${min} to ${max}, got ${quote(v)}.`);
  return n;
}

/** A page size query parameter (AWS allows 1..250). */
function querySize(req: SignedRequest, name: string): number | undefined {
  return queryInteger(req, name, 1, 250);
}

/** The principal header (x-amzn-principal). */
function principalHeader(req: SignedRequest): string | undefined {
  const v = req.headers['x-amzn-principal'];
  return Array.isArray(v) ? v[0] : v;
}

/** 200 with the JSON of value (undefined members left out). */
function ok(value: unknown): ServiceResponse {
  return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value ?? {}) };
}

/** Every registry route, bound to one registry. */
export function registryRoutes(registry: IotRegistry): RestRoute[] {
  const r = (
    method: string,
    path: string,
    action: string,
    handle: (req: SignedRequest, p: Record<string, string>) => unknown | Promise<unknown>,
  ): RestRoute => ({ method, path, action, handler: async (req, params) => ok(await handle(req, params)) });

  return [
    // Things
    r('POST', '/things/{thingName}', 'CreateThing', (req, p) => registry.createThing(p.thingName, jsonBody(req))),
    r('GET', '/things/{thingName}', 'DescribeThing', (_req, p) => registry.describeThing(p.thingName)),
    r('PATCH', '/things/{thingName}', 'UpdateThing', (req, p) => registry.updateThing(p.thingName, jsonBody(req))),
    r('DELETE', '/things/{thingName}', 'DeleteThing', (req, p) =>
      registry.deleteThing(p.thingName, queryInteger(req, 'expectedVersion', 0, Number.MAX_SAFE_INTEGER)),
    ),
    r('GET', '/things', 'ListThings', (req) =>
      registry.listThings({
        nextToken: queryString(req, 'nextToken'),
        maxResults: querySize(req, 'maxResults'),
        attributeName: queryString(req, 'attributeName'),
        attributeValue: queryString(req, 'attributeValue'),
        thingTypeName: queryString(req, 'thingTypeName'),
        usePrefixAttributeValue: queryBoolean(req, 'usePrefixAttributeValue'),
      }),
    ),
    // Thing types
    r('POST', '/thing-types/{thingTypeName}', 'CreateThingType', (req, p) => registry.createThingType(p.thingTypeName, jsonBody(req))),
    r('GET', '/thing-types/{thingTypeName}', 'DescribeThingType', (_req, p) => registry.describeThingType(p.thingTypeName)),
    r('GET', '/thing-types', 'ListThingTypes', (req) =>
      registry.listThingTypes({ nextToken: queryString(req, 'nextToken'), maxResults: querySize(req, 'maxResults'), thingTypeName: queryString(req, 'thingTypeName') }),
    ),
    r('POST', '/thing-types/{thingTypeName}/deprecate', 'DeprecateThingType', (req, p) => registry.deprecateThingType(p.thingTypeName, jsonBody(req))),
    r('DELETE', '/thing-types/{thingTypeName}', 'DeleteThingType', (_req, p) => registry.deleteThingType(p.thingTypeName)),
    // Thing groups
    r('POST', '/thing-groups/{thingGroupName}', 'CreateThingGroup', (req, p) => registry.createThingGroup(p.thingGroupName, jsonBody(req))),
    r('GET', '/thing-groups/{thingGroupName}', 'DescribeThingGroup', (_req, p) => registry.describeThingGroup(p.thingGroupName)),
    r('PATCH', '/thing-groups/{thingGroupName}', 'UpdateThingGroup', (req, p) => registry.updateThingGroup(p.thingGroupName, jsonBody(req))),
    r('DELETE', '/thing-groups/{thingGroupName}', 'DeleteThingGroup', (req, p) =>
      registry.deleteThingGroup(p.thingGroupName, queryInteger(req, 'expectedVersion', 0, Number.MAX_SAFE_INTEGER)),
    ),
    r('GET', '/thing-groups', 'ListThingGroups', (req) =>
      registry.listThingGroups({
        nextToken: queryString(req, 'nextToken'),
        maxResults: querySize(req, 'maxResults'),
        parentGroup: queryString(req, 'parentGroup'),
        namePrefixFilter: queryString(req, 'namePrefixFilter'),
        recursive: queryBoolean(req, 'recursive'),
      }),
    ),
    r('PUT', '/thing-groups/addThingToThingGroup', 'AddThingToThingGroup', (req) => registry.addThingToThingGroup(jsonBody(req))),
    r('PUT', '/thing-groups/removeThingFromThingGroup', 'RemoveThingFromThingGroup', (req) => registry.removeThingFromThingGroup(jsonBody(req))),
    r('GET', '/thing-groups/{thingGroupName}/things', 'ListThingsInThingGroup', (req, p) =>
      registry.listThingsInThingGroup(p.thingGroupName, {
        recursive: queryBoolean(req, 'recursive'),
        nextToken: queryString(req, 'nextToken'),
        maxResults: querySize(req, 'maxResults'),
      }),
    ),
    r('GET', '/things/{thingName}/thing-groups', 'ListThingGroupsForThing', (req, p) =>
      registry.listThingGroupsForThing(p.thingName, { nextToken: queryString(req, 'nextToken'), maxResults: querySize(req, 'maxResults') }),
    ),
    // Certificates
    r('POST', '/keys-and-certificate', 'CreateKeysAndCertificate', (req) => registry.createKeysAndCertificate(queryBoolean(req, 'setAsActive') ?? false)),
    r('POST', '/certificates', 'CreateCertificateFromCsr', (req) => registry.createCertificateFromCsr(jsonBody(req), queryBoolean(req, 'setAsActive') ?? false)),
    r('POST', '/certificate/register', 'RegisterCertificate', (req) => registry.registerCertificate(jsonBody(req), queryBoolean(req, 'setAsActive'))),
    r('POST', '/certificate/register-no-ca', 'RegisterCertificateWithoutCA', (req) => registry.registerCertificateWithoutCA(jsonBody(req))),
    r('GET', '/certificates/{certificateId}', 'DescribeCertificate', (_req, p) => registry.describeCertificate(p.certificateId)),
    r('PUT', '/certificates/{certificateId}', 'UpdateCertificate', (req, p) => registry.updateCertificate(p.certificateId, queryString(req, 'newStatus'))),
    r('DELETE', '/certificates/{certificateId}', 'DeleteCertificate', (req, p) => registry.deleteCertificate(p.certificateId, queryBoolean(req, 'forceDelete') ?? false)),
    r('GET', '/certificates', 'ListCertificates', (req) =>
      registry.listCertificates({ pageSize: querySize(req, 'pageSize'), marker: queryString(req, 'marker'), ascendingOrder: queryBoolean(req, 'isAscendingOrder') }),
    ),
    // Policies
    r('POST', '/policies/{policyName}', 'CreatePolicy', (req, p) => registry.createPolicy(p.policyName, jsonBody(req))),
    r('GET', '/policies/{policyName}', 'GetPolicy', (_req, p) => registry.getPolicy(p.policyName)),
    r('DELETE', '/policies/{policyName}', 'DeletePolicy', (_req, p) => registry.deletePolicy(p.policyName)),
    r('GET', '/policies', 'ListPolicies', (req) =>
      registry.listPolicies({ marker: queryString(req, 'marker'), pageSize: querySize(req, 'pageSize'), ascendingOrder: queryBoolean(req, 'isAscendingOrder') }),
    ),
    r('POST', '/policies/{policyName}/version', 'CreatePolicyVersion', (req, p) =>
      registry.createPolicyVersion(p.policyName, jsonBody(req), queryBoolean(req, 'setAsDefault') ?? false),
    ),
    r('GET', '/policies/{policyName}/version', 'ListPolicyVersions', (_req, p) => registry.listPolicyVersions(p.policyName)),
    r('GET', '/policies/{policyName}/version/{policyVersionId}', 'GetPolicyVersion', (_req, p) => registry.getPolicyVersion(p.policyName, p.policyVersionId)),
    r('PATCH', '/policies/{policyName}/version/{policyVersionId}', 'SetDefaultPolicyVersion', (_req, p) =>
      registry.setDefaultPolicyVersion(p.policyName, p.policyVersionId),
    ),
    r('DELETE', '/policies/{policyName}/version/{policyVersionId}', 'DeletePolicyVersion', (_req, p) => registry.deletePolicyVersion(p.policyName, p.policyVersionId)),
    r('PUT', '/target-policies/{policyName}', 'AttachPolicy', (req, p) => registry.attachPolicy(p.policyName, jsonBody(req))),
    r('POST', '/target-policies/{policyName}', 'DetachPolicy', (req, p) => registry.detachPolicy(p.policyName, jsonBody(req))),
    r('POST', '/attached-policies/{target}', 'ListAttachedPolicies', (req, p) =>
      registry.listAttachedPolicies(p.target, { recursive: queryBoolean(req, 'recursive'), marker: queryString(req, 'marker'), pageSize: querySize(req, 'pageSize') }),
    ),
    r('POST', '/policy-targets/{policyName}', 'ListTargetsForPolicy', (req, p) =>
      registry.listTargetsForPolicy(p.policyName, { marker: queryString(req, 'marker'), pageSize: querySize(req, 'pageSize') }),
    ),
    // Thing principals
    r('PUT', '/things/{thingName}/principals', 'AttachThingPrincipal', (req, p) =>
      registry.attachThingPrincipal(p.thingName, principalHeader(req), queryString(req, 'thingPrincipalType')),
    ),
    r('DELETE', '/things/{thingName}/principals', 'DetachThingPrincipal', (req, p) => registry.detachThingPrincipal(p.thingName, principalHeader(req))),
    r('GET', '/things/{thingName}/principals', 'ListThingPrincipals', (req, p) => {
      const out = registry.listThingPrincipals(p.thingName, { nextToken: queryString(req, 'nextToken'), maxResults: querySize(req, 'maxResults') });
      return { principals: out.principals, nextToken: out.nextToken };
    }),
    r('GET', '/things/{thingName}/principals-v2', 'ListThingPrincipalsV2', (req, p) => {
      const out = registry.listThingPrincipals(p.thingName, {
        nextToken: queryString(req, 'nextToken'),
        maxResults: querySize(req, 'maxResults'),
        thingPrincipalType: queryString(req, 'thingPrincipalType'),
      });
      return { thingPrincipalObjects: out.principalObjects.map((o) => ({ principal: o.principal, thingPrincipalType: o.thingPrincipalType })), nextToken: out.nextToken };
    }),
    r('GET', '/principals/things', 'ListPrincipalThings', (req) => {
      const out = registry.listPrincipalThings(principalHeader(req), { nextToken: queryString(req, 'nextToken'), maxResults: querySize(req, 'maxResults') });
      return { things: out.things, nextToken: out.nextToken };
    }),
    r('GET', '/principals/things-v2', 'ListPrincipalThingsV2', (req) => {
      const out = registry.listPrincipalThings(principalHeader(req), {
        nextToken: queryString(req, 'nextToken'),
        maxResults: querySize(req, 'maxResults'),
        thingPrincipalType: queryString(req, 'thingPrincipalType'),
      });
      return { principalThingObjects: out.records.map((o) => ({ thingName: o.thingName, thingPrincipalType: o.thingPrincipalType })), nextToken: out.nextToken };
    }),
    // Endpoint
    r('GET', '/endpoint', 'DescribeEndpoint', (req) => registry.describeEndpoint(queryString(req, 'endpointType'))),
  ];
}
