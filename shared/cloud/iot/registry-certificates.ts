/**
 * Certificates of the IoT registry: issued, from a CSR, registered; status, delete, list.
 */
import { CERTIFICATE_STATUSES, seconds, page, byKey } from './registry-base';
import { RegistryThingGroups } from './registry-thing-groups';
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import type { CertificateRecord } from '../contracts';
import { certificateIdOf, issueDeviceCertificate, isSignedBy, signDeviceCertificate } from './ca';
import { alreadyExists, invalidRequest, IotError, notFound } from './registry-errors';
import { checkCertificateId, optionalString, quote } from './registry-validation';
import type { StoredCertificate } from './registry-records';

/** Certificates of the IoT registry: issued, from a CSR, registered; status, delete, list. */
export abstract class RegistryCertificates extends RegistryThingGroups {
  protected certificateOrThrow(id: string): StoredCertificate {
    const cert = this.certificates.get(id);
    if (!cert) throw notFound(`Certificate ${id} cannot be found.`);
    return cert;
  }

  protected storeCertificate(pem: string, status: CertificateRecord['status'], mode: 'DEFAULT' | 'SNI_ONLY', caCertificateId?: string): StoredCertificate {
    const x509 = new X509Certificate(pem);
    const certificateId = certificateIdOf(pem);
    const now = this.clock.now();
    const record: StoredCertificate = {
      certificateId,
      certificateArn: this.arns.certificate(certificateId),
      certificatePem: pem,
      status,
      caCertificateId,
      certificateMode: mode,
      creationDate: now,
      lastModifiedDate: now,
      notBefore: new Date(x509.validFrom).getTime(),
      notAfter: new Date(x509.validTo).getTime(),
      customerVersion: 1,
      generationId: this.generationId(),
    };
    this.certificates.put(certificateId, record);
    this.changed({ kind: 'certificate', certificateId, status });
    return record;
  }

  protected caCertificateId(): string {
    return certificateIdOf(this.ca.caCertPem);
  }

  /** CreateKeysAndCertificate: an RSA-2048 key pair and a certificate from the local CA. */
  async createKeysAndCertificate(setAsActive: boolean): Promise<Record<string, unknown>> {
    const issued = await issueDeviceCertificate(this.ca);
    const cert = this.storeCertificate(issued.certificatePem, setAsActive ? 'ACTIVE' : 'INACTIVE', 'DEFAULT', this.caCertificateId());
    return {
      certificateArn: cert.certificateArn,
      certificateId: cert.certificateId,
      certificatePem: cert.certificatePem,
      keyPair: { PublicKey: issued.publicKeyPem, PrivateKey: issued.privateKeyPem },
    };
  }

  /** CreateCertificateFromCsr: signs an RSA (>= 2048 bit) CSR with the local CA. */
  createCertificateFromCsr(body: Record<string, unknown>, setAsActive: boolean): Record<string, unknown> {
    const csrPem = optionalString('certificateSigningRequest', body.certificateSigningRequest, 4096);
    if (!csrPem) throw invalidRequest('certificateSigningRequest is required.');
    let publicKeyPem: string;
    try {
      const csr = forge.pki.certificationRequestFromPem(csrPem);
      if (!csr.verify()) throw new Error('its signature does not verify');
      const key = csr.publicKey as forge.pki.rsa.PublicKey | null;
      if (!key || key.n.bitLength() < 2048) throw new Error('the key must be RSA of at least 2048 bits');
      publicKeyPem = forge.pki.publicKeyToPem(key);
    } catch (err) {
      throw invalidRequest(`certificateSigningRequest is not a valid CSR: ${(err as Error).message}`);
    }
    const pem = signDeviceCertificate(this.ca, publicKeyPem);
    const cert = this.storeCertificate(pem, setAsActive ? 'ACTIVE' : 'INACTIVE', 'DEFAULT', this.caCertificateId());
    return { certificateArn: cert.certificateArn, certificateId: cert.certificateId, certificatePem: cert.certificatePem };
  }

  protected parseRegistered(body: Record<string, unknown>, setAsActive: boolean | undefined): { pem: string; status: CertificateRecord['status'] } {
    const pem = optionalString('certificatePem', body.certificatePem, 65536);
    if (!pem) throw invalidRequest('certificatePem is required.');
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(pem);
    } catch (err) {
      throw new IotError('CertificateValidationException', `certificatePem is not a PEM X.509 certificate: ${(err as Error).message}`);
    }
    if (new Date(x509.validTo).getTime() < this.clock.now()) throw new IotError('CertificateValidationException', `The certificate expired on ${x509.validTo}.`);
    const status = optionalString('status', body.status, 32) as CertificateRecord['status'] | undefined;
    if (status !== undefined && !['ACTIVE', 'INACTIVE'].includes(status)) throw invalidRequest(`status ${quote(status)} is not ACTIVE or INACTIVE.`);
    const id = certificateIdOf(pem);
    const existing = this.certificates.get(id);
    if (existing) throw alreadyExists(`Certificate ${id} is already registered.`, id, existing.certificateArn);
    return { pem, status: status ?? (setAsActive ? 'ACTIVE' : 'INACTIVE') };
  }

  /** RegisterCertificate: a certificate signed by the given CA, or by the local CA when none is given. */
  registerCertificate(body: Record<string, unknown>, setAsActive: boolean | undefined): { certificateArn: string; certificateId: string } {
    const caPem = optionalString('caCertificatePem', body.caCertificatePem, 65536);
    const { pem, status } = this.parseRegistered(body, setAsActive);
    const issuer = caPem ?? this.ca.caCertPem;
    if (!isSignedBy(pem, issuer)) {
      throw new IotError('CertificateValidationException', caPem ? 'The certificate is not signed by caCertificatePem.' : 'The certificate is not signed by a registered CA (the local CA).');
    }
    const cert = this.storeCertificate(pem, status, 'DEFAULT', caPem ? certificateIdOf(caPem) : this.caCertificateId());
    return { certificateArn: cert.certificateArn, certificateId: cert.certificateId };
  }

  /** RegisterCertificateWithoutCA: any valid certificate, SNI_ONLY as AWS marks them. */
  registerCertificateWithoutCA(body: Record<string, unknown>): { certificateArn: string; certificateId: string } {
    const { pem, status } = this.parseRegistered(body, undefined);
    const cert = this.storeCertificate(pem, status, 'SNI_ONLY');
    return { certificateArn: cert.certificateArn, certificateId: cert.certificateId };
  }

  /** DescribeCertificate. */
  describeCertificate(certificateId: unknown): Record<string, unknown> {
    const c = this.certificateOrThrow(checkCertificateId(certificateId));
    return {
      certificateDescription: {
        certificateArn: c.certificateArn,
        certificateId: c.certificateId,
        caCertificateId: c.caCertificateId,
        status: c.status,
        certificatePem: c.certificatePem,
        ownedBy: this.arns.accountId,
        creationDate: seconds(c.creationDate),
        lastModifiedDate: seconds(c.lastModifiedDate),
        customerVersion: c.customerVersion,
        generationId: c.generationId,
        validity: { notBefore: seconds(c.notBefore), notAfter: seconds(c.notAfter) },
        certificateMode: c.certificateMode,
      },
    };
  }

  /** UpdateCertificate: ACTIVE/INACTIVE/REVOKED...; a revoked certificate stays revoked, as AWS. */
  updateCertificate(certificateId: unknown, newStatus: unknown): Record<string, never> {
    const id = checkCertificateId(certificateId);
    if (typeof newStatus !== 'string' || !CERTIFICATE_STATUSES.includes(newStatus as CertificateRecord['status'])) {
      throw invalidRequest(`newStatus ${quote(newStatus)} is invalid: use ACTIVE, INACTIVE or REVOKED.`);
    }
    const status = newStatus as CertificateRecord['status'];
    if (status === 'PENDING_TRANSFER' || status === 'PENDING_ACTIVATION') {
      throw invalidRequest(`newStatus ${status} cannot be set with UpdateCertificate.`);
    }
    const cert = this.certificateOrThrow(id);
    if (cert.status === status) return {};
    if (cert.status === 'REVOKED') throw new IotError('CertificateStateException', `Certificate ${id} is REVOKED; a revoked certificate cannot change status.`);
    if (cert.status === 'PENDING_TRANSFER') throw new IotError('CertificateStateException', `Certificate ${id} is PENDING_TRANSFER.`);
    this.certificates.put(id, {
      ...cert,
      status,
      lastModifiedDate: this.clock.now(),
      customerVersion: cert.customerVersion + 1,
      generationId: this.generationId(),
    });
    this.changed({ kind: 'certificate', certificateId: id, status });
    return {};
  }

  /** DeleteCertificate: not while ACTIVE (406), attached to a thing, or (without forceDelete) to a policy (409). */
  deleteCertificate(certificateId: unknown, forceDelete: boolean): Record<string, never> {
    const id = checkCertificateId(certificateId);
    const cert = this.certificateOrThrow(id);
    if (cert.status === 'ACTIVE') throw new IotError('CertificateStateException', 'Certificate must be deactivated (not ACTIVE) before deletion.');
    const things = this.thingsOfPrincipal(cert.certificateArn);
    if (things.length > 0) {
      throw new IotError('DeleteConflictException', `Things must be detached before deletion (arn: ${cert.certificateArn}, attached to ${things.join(', ')}).`);
    }
    const policies = this.policiesAttachedTo(cert.certificateArn);
    if (policies.length > 0 && !forceDelete) {
      throw new IotError('DeleteConflictException', `Certificate policies must be detached before deletion (arn: ${cert.certificateArn}, policies ${policies.join(', ')}).`);
    }
    for (const p of policies) this.policyAttachments.delete(this.attachmentKey(p, cert.certificateArn));
    this.certificates.delete(id);
    this.changed({ kind: 'certificate', certificateId: id, status: 'DELETED' });
    return {};
  }

  /** ListCertificates, by creation date (newest first unless ascendingOrder). */
  listCertificates(query: { pageSize?: number; marker?: string; ascendingOrder?: boolean }): { certificates: Record<string, unknown>[]; nextMarker?: string } {
    const key = (c: StoredCertificate): string => `${String(c.creationDate).padStart(15, '0')}:${c.certificateId}`;
    const certs = this.certificates.values().sort(byKey(key));
    if (!query.ascendingOrder) certs.reverse();
    // Descending order pages by the inverted key, so "after" still means "later in this listing".
    const pageKey = query.ascendingOrder ? key : (c: StoredCertificate): string => [...key(c)].map((ch) => String.fromCharCode(0xffff - ch.charCodeAt(0))).join('');
    const { items, next } = page(certs, pageKey, query.marker, 'marker', query.pageSize);
    return {
      certificates: items.map((c) => ({
        certificateArn: c.certificateArn,
        certificateId: c.certificateId,
        status: c.status,
        certificateMode: c.certificateMode,
        creationDate: seconds(c.creationDate),
      })),
      nextMarker: next,
    };
  }
}
