/**
 * Who may connect to the broker and what each connection may do, as AWS IoT Core decides it: the client
 * certificate must be registered and ACTIVE, and every CONNECT, PUBLISH, SUBSCRIBE and delivery is checked
 * against the policies attached to the certificate (re-read each time, so detaching a policy or revoking
 * the certificate takes effect on live connections).
 */
import { createHash } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import type { PrincipalDirectory } from '../contracts';
import {
  connectionVariables,
  evaluate,
  iotArn,
  parsePolicyDocumentCached,
  type PolicyDocument,
  type PolicyVariables,
} from '../iot/policy';

/** What the broker knows about an accepted connection. */
export interface ConnectionIdentity {
  clientId: string;
  certificateId: string;
  certificateArn: string;
  /** The thing this connection acts as (Connection.Thing.*), when resolved. */
  thingName?: string;
  variables: PolicyVariables;
}

/** Result of a CONNECT check: the identity, or the reason it was refused (for logs). */
export type ConnectDecision = { ok: true; identity: ConnectionIdentity } | { ok: false; reason: string };

/** The broker's authorisation seam; the bench swaps in allowAllAuthorizer to measure the cost of checks. */
export interface MqttAuthorizer {
  /** Identify a connecting client by its TLS client certificate and decide iot:Connect. */
  connect(clientId: string, peer: PeerCertificate | undefined, sourceIp: string | undefined): ConnectDecision;
  /** iot:Publish (and iot:RetainPublish when retain) on topic/<topic>. */
  publish(identity: ConnectionIdentity, topic: string, retain: boolean): boolean;
  /** iot:Subscribe on topicfilter/<filter>. */
  subscribe(identity: ConnectionIdentity, filter: string): boolean;
  /** iot:Receive on topic/<topic>, for each delivery. */
  receive(identity: ConnectionIdentity, topic: string): boolean;
  /** False once the certificate is no longer ACTIVE (revoked, deactivated, deleted): the broker drops the client. */
  stillValid(identity: ConnectionIdentity): boolean;
  /** Optional: call onChange whenever certificates or policies change, so the broker re-checks at once. */
  watch?(onChange: () => void): void;
}

/** A directory that can report its changes (the registry's does). */
interface ObservableDirectory extends PrincipalDirectory {
  onChange(listener: (change: unknown) => void): void;
}

/** A directory that knows EXCLUSIVE_THING attachments (optional: the thing a certificate belongs to alone). */
interface ExclusiveAwareDirectory extends PrincipalDirectory {
  exclusiveThingOf(principalArn: string): string | undefined;
}

/** An effective policy as the registry reports it: group policies name the thing they apply for. */
interface DirectoryPolicy {
  name: string;
  document: string;
  /** Set for a thing-group policy: AWS applies it only when the client id is this thing's name. */
  thingName?: string;
}

/** Options of the policy authorizer. */
export interface PolicyAuthorizerOptions {
  region: string;
  accountId: string;
  /**
   * Refuse certificates attached to no thing (the local cloud's rule: "a connection is allowed only with an
   * active certificate attached to a thing"). AWS itself leaves this to the policy. Default true.
   */
  requireAttachedThing?: boolean;
}

/** Bound on memoised decisions per connection (a device walking many topics just re-evaluates). */
const MAX_DECISIONS_PER_CONNECTION = 1000;

/** Lowercase hex SHA-256 of a certificate's DER: the AWS IoT certificate id. */
export function certificateIdOfDer(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

// Node's short names of X.509 subject fields, mapped to the names of AWS IoT certificate policy variables.
const SUBJECT_FIELDS: Record<string, string> = {
  CN: 'CommonName',
  O: 'Organization',
  OU: 'OrganizationalUnit',
  C: 'Country',
  ST: 'State',
  L: 'Locality',
  serialNumber: 'SerialNumber',
  title: 'Title',
  SN: 'Surname',
  GN: 'GivenName',
  initials: 'Initials',
  pseudonym: 'Pseudonym',
  generationQualifier: 'GenerationQualifier',
  dnQualifier: 'DistinguishedNameQualifier',
};

function subjectFields(name: Record<string, string | string[]> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [short, value] of Object.entries(name ?? {})) {
    const long = SUBJECT_FIELDS[short];
    if (long) out[long] = Array.isArray(value) ? value[0] : value;
  }
  return out;
}

/** The AWS IoT authorizer: certificates and policies from the registry's PrincipalDirectory. */
export class PolicyAuthorizer implements MqttAuthorizer {
  private readonly requireAttachedThing: boolean;
  private readonly decisions = new WeakMap<ConnectionIdentity, { attached: DirectoryPolicy[]; decided: Map<string, boolean> }>();

  constructor(
    private readonly directory: PrincipalDirectory,
    private readonly options: PolicyAuthorizerOptions,
  ) {
    this.requireAttachedThing = options.requireAttachedThing ?? true;
  }

  /** Identify the certificate, resolve the connection's thing and evaluate iot:Connect on client/<clientId>. */
  connect(clientId: string, peer: PeerCertificate | undefined, sourceIp: string | undefined): ConnectDecision {
    if (!peer || !peer.raw) return { ok: false, reason: 'no client certificate' };
    const certificateId = certificateIdOfDer(peer.raw);
    const record = this.directory.certificate(certificateId);
    if (!record) return { ok: false, reason: `certificate ${certificateId} is not registered` };
    if (record.status !== 'ACTIVE') return { ok: false, reason: `certificate ${certificateId} is ${record.status}` };
    const things = this.directory.thingsForPrincipal(record.certificateArn);
    if (this.requireAttachedThing && things.length === 0) {
      return { ok: false, reason: `certificate ${certificateId} is attached to no thing` };
    }
    // AWS resolves Connection.Thing.* from an EXCLUSIVE_THING attachment whatever the client id, and from a
    // non-exclusive one (AttachThingPrincipal's default) only when the client id names an attached thing.
    const exclusive = (this.directory as Partial<ExclusiveAwareDirectory>).exclusiveThingOf?.call(this.directory, record.certificateArn);
    const thingName = exclusive ?? (things.includes(clientId) ? clientId : undefined);
    const isAttached = thingName !== undefined;
    const thing = thingName !== undefined ? this.directory.thing(thingName) : undefined;
    const variables = connectionVariables({
      clientId,
      thing,
      isAttached,
      certificateSubject: subjectFields(peer.subject as unknown as Record<string, string | string[]>),
      certificateIssuer: subjectFields(peer.issuer as unknown as Record<string, string | string[]>),
      certificateSerialNumber: peer.serialNumber,
      sourceIp,
    });
    const identity: ConnectionIdentity = {
      clientId,
      certificateId,
      certificateArn: record.certificateArn,
      thingName: thing?.thingName,
      variables,
    };
    if (!this.allowed(identity, 'iot:Connect', 'client', clientId)) {
      return { ok: false, reason: `iot:Connect on client/${clientId} is not allowed for certificate ${certificateId}` };
    }
    return { ok: true, identity };
  }

  publish(identity: ConnectionIdentity, topic: string, retain: boolean): boolean {
    if (!this.allowed(identity, 'iot:Publish', 'topic', topic)) return false;
    return !retain || this.allowed(identity, 'iot:RetainPublish', 'topic', topic);
  }

  subscribe(identity: ConnectionIdentity, filter: string): boolean {
    return this.allowed(identity, 'iot:Subscribe', 'topicfilter', filter);
  }

  receive(identity: ConnectionIdentity, topic: string): boolean {
    return this.allowed(identity, 'iot:Receive', 'topic', topic);
  }

  stillValid(identity: ConnectionIdentity): boolean {
    return this.directory.certificate(identity.certificateId)?.status === 'ACTIVE';
  }

  watch(onChange: () => void): void {
    const d = this.directory as Partial<ObservableDirectory>;
    if (typeof d.onChange === 'function') d.onChange.call(this.directory, () => onChange());
  }

  /**
   * The directory is asked on every check, so policy changes apply to live connections. Decisions are
   * memoised per connection for as long as the directory hands back the very same policy list (the
   * registry's directory keeps one list per principal until anything changes; a new list starts afresh).
   */
  private allowed(identity: ConnectionIdentity, action: string, type: 'client' | 'topic' | 'topicfilter', name: string): boolean {
    const attached = this.directory.policiesForPrincipal(identity.certificateArn) as DirectoryPolicy[];
    let memo = this.decisions.get(identity);
    if (!memo || memo.attached !== attached) {
      memo = { attached, decided: new Map() };
      this.decisions.set(identity, memo);
    }
    const key = `${action} ${type}/${name}`;
    let decision = memo.decided.get(key);
    if (decision === undefined) {
      const arn = iotArn(this.options.region, this.options.accountId, type, name);
      decision = evaluate(this.policies(identity, attached), action, arn, identity.variables) === 'Allow';
      if (memo.decided.size >= MAX_DECISIONS_PER_CONNECTION) memo.decided.clear();
      memo.decided.set(key, decision);
    }
    return decision;
  }

  // Parsing is cached by document text.
  private policies(identity: ConnectionIdentity, attached: DirectoryPolicy[]): PolicyDocument[] {
    const docs: PolicyDocument[] = [];
    for (const p of attached) {
      if (p.thingName !== undefined && p.thingName !== identity.clientId) continue;
      try {
        docs.push(parsePolicyDocumentCached(p.document));
      } catch {
        // A stored policy the registry accepted should always parse; if not, it grants nothing.
      }
    }
    return docs;
  }
}

/** An authorizer that accepts any client certificate the TLS layer accepted and allows everything (bench baseline). */
export const allowAllAuthorizer: MqttAuthorizer = {
  connect(clientId, peer) {
    const certificateId = peer?.raw ? certificateIdOfDer(peer.raw) : 'none';
    return { ok: true, identity: { clientId, certificateId, certificateArn: '', variables: { 'iot:ClientId': clientId } } };
  },
  publish: () => true,
  subscribe: () => true,
  receive: () => true,
  stillValid: () => true,
};
