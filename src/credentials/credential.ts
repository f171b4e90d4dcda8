import { createHash } from 'node:crypto'
import { createVerifier, parseScheme, type SigningScheme, type Verifier } from '../signing/index.js'

/** An authenticated caller: who it is upstream, what it may touch, how it signs. */
export interface Credential {
  /** A label for logs, metrics and nonce scoping; never the API key itself. */
  id: string
  enabled: boolean
  /** The legacy identity the gateway injects upstream. */
  subject: string
  /** When set, the only account ids this credential may use. */
  accounts?: ReadonlySet<string>
  /** When set, the key is accepted only over a connection whose client certificate's subject has these attributes. */
  tlsSubject?: Readonly<Record<string, string>>
  verifier: Verifier
}

/** A credential as a source stores it, key material resolved to text. */
export interface CredentialRecord {
  id?: string | undefined
  enabled?: boolean | undefined
  subject: string
  accounts?: readonly string[] | undefined
  /** HMAC secret, or a PEM public (or private) key. */
  key: string
  /** The field the key came from, where a source has one: it must be the one the scheme's algorithm takes. */
  keyField?: 'secret' | 'publicKey' | undefined
  /** Overrides of the provider-wide signing scheme. */
  scheme?: Partial<SigningScheme> | undefined
  tlsSubject?: Readonly<Record<string, string>> | undefined
}

/** A record from a credential source that cannot be used: answered 500 and logged. */
export class CredentialRecordError extends Error {
  override name = 'CredentialRecordError'
}

export const CREDENTIAL_ID = /^[A-Za-z0-9._-]{1,64}$/

/** The default id: a short digest of the API key, stable and safe to log. */
export function keyDigest(apiKey: string): string {
  return 'k-' + createHash('sha256').update(apiKey).digest('hex').slice(0, 16)
}

/** Where a credential keeps its key: HMAC's is a shared secret, every other algorithm's a public key. */
export function keyFieldFor(algorithm: SigningScheme['algorithm']): 'secret' | 'publicKey' {
  return algorithm === 'hmac' ? 'secret' : 'publicKey'
}

/** Parses the key once; throws SchemeError / KeyError on a bad record. */
export function buildCredential(apiKey: string, record: CredentialRecord, defaultScheme: SigningScheme): Credential {
  const scheme = parseScheme({ ...defaultScheme, ...record.scheme })
  // A public key where a secret is expected would make it an HMAC secret that anyone holding it can sign with.
  const keyField = keyFieldFor(scheme.algorithm)
  if (record.keyField !== undefined && record.keyField !== keyField) throw new CredentialRecordError(`${scheme.algorithm} credentials take "${keyField}", not "${record.keyField}"`)
  const id = record.id ?? keyDigest(apiKey)
  if (!CREDENTIAL_ID.test(id)) throw new CredentialRecordError(`credential id ${JSON.stringify(id)} must match ${CREDENTIAL_ID}`)
  return {
    id,
    enabled: record.enabled ?? true,
    subject: record.subject,
    ...(record.accounts ? { accounts: new Set(record.accounts) } : {}),
    ...(record.tlsSubject ? { tlsSubject: record.tlsSubject } : {}),
    verifier: createVerifier(scheme, record.key),
  }
}
