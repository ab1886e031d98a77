/**
 * The records the IoT registry stores, and the changes it announces.
 */
import type { CertificateRecord } from '../contracts';

/** A thing as stored. */
export interface ThingRecord {
  thingName: string;
  thingId: string;
  thingTypeName?: string;
  attributes: Record<string, string>;
  version: number;
  /** Thing groups it belongs to directly. */
  groups: string[];
  creationDate: number;
}

/** A thing type as stored. */
export interface ThingTypeRecord {
  thingTypeName: string;
  thingTypeId: string;
  thingTypeDescription?: string;
  searchableAttributes?: string[];
  deprecated: boolean;
  deprecationDate?: number;
  creationDate: number;
}

/** A (static) thing group as stored. */
export interface ThingGroupRecord {
  thingGroupName: string;
  thingGroupId: string;
  parentGroupName?: string;
  thingGroupDescription?: string;
  attributes: Record<string, string>;
  version: number;
  creationDate: number;
}

/** A certificate as stored: what the broker needs plus what DescribeCertificate returns. */
export interface StoredCertificate extends CertificateRecord {
  caCertificateId?: string;
  certificateMode: 'DEFAULT' | 'SNI_ONLY';
  creationDate: number;
  lastModifiedDate: number;
  notBefore: number;
  notAfter: number;
  customerVersion: number;
  generationId: string;
}

/** A policy with its versions. */
export interface PolicyRecord {
  policyName: string;
  versions: { versionId: string; document: string; createDate: number }[];
  defaultVersionId: string;
  nextVersionId: number;
  creationDate: number;
  lastModifiedDate: number;
  generationId: string;
}

/** A policy attached to a target (certificate ARN or thing group ARN). */
export interface PolicyAttachment {
  policyName: string;
  target: string;
}

/** A principal (certificate ARN) attached to a thing. */
export interface ThingPrincipalRecord {
  thingName: string;
  principal: string;
  thingPrincipalType: 'EXCLUSIVE_THING' | 'NON_EXCLUSIVE_THING';
}

/** Something the data plane must react to at once (a certificate leaving ACTIVE drops its sessions). */
export type RegistryChange =
  | { kind: 'certificate'; certificateId: string; status: CertificateRecord['status'] | 'DELETED' }
  | { kind: 'thing-principal'; thingName: string; principal: string; attached: boolean }
  | { kind: 'thing-group-membership'; thingName: string; thingGroupName: string; member: boolean }
  | { kind: 'thing-group-deleted'; thingGroupName: string }
  | { kind: 'thing'; thingName: string; deleted: boolean }
  | { kind: 'policy'; policyName: string };

/** Where the MQTT endpoint and HTTP endpoint are, for DescribeEndpoint. */
export interface RegistryEndpoints {
  mqttHost: string;
  mqttPort: number;
  http: string;
}
