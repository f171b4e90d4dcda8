import { request } from 'undici'
import type { RedisClient } from '../redis.js'
import { StoreUnavailableError } from '../nonce/store.js'
import type { SigningScheme } from '../signing/index.js'
import { CredentialRecordError, type CredentialRecord } from './credential.js'

/**
 * Where credentials live besides the config's files: a Redis hash per key, or an
 * HTTP lookup against the legacy backend. A source answers `undefined` for an
 * unknown key and throws StoreUnavailableError when it cannot answer.
 */
export interface CredentialSource {
  readonly name: string
  lookup(apiKey: string): Promise<CredentialRecord | undefined>
}

/** The fields a Redis hash or an HTTP answer carries; `secret` or `publicKey`. */
export interface RawCredential {
  id?: string
  enabled?: boolean | string
  subject?: string
  accounts?: string[] | string
  secret?: string
  publicKey?: string
  scheme?: Partial<SigningScheme> | string
  tlsSubject?: Record<string, string> | string
}

/** A structured field, as an object (HTTP) or as JSON text (a Redis hash field). */
function structured<T>(value: T | string | undefined, field: string): T | undefined {
  if (typeof value !== 'string') return value
  try {
    return JSON.parse(value) as T
  } catch {
    throw new CredentialRecordError(`credential ${field} is not JSON`)
  }
}

export function recordFrom(raw: RawCredential): CredentialRecord {
  if (raw.secret !== undefined && raw.publicKey !== undefined) throw new CredentialRecordError('credential has both secret and publicKey')
  const keyField = raw.secret !== undefined ? 'secret' : 'publicKey'
  const key = raw[keyField]
  if (typeof raw.subject !== 'string' || raw.subject === '') throw new CredentialRecordError('credential has no subject')
  if (typeof key !== 'string' || key === '') throw new CredentialRecordError('credential has neither secret nor publicKey')
  // Present, it is a scope: anything but a list or a comma list (null, false, a number) is refused, never read as none.
  if (raw.accounts !== undefined && typeof raw.accounts !== 'string' && !(Array.isArray(raw.accounts) && raw.accounts.every((a) => typeof a === 'string'))) {
    throw new CredentialRecordError('credential accounts must be a list of account ids or a comma list')
  }
  const accounts = typeof raw.accounts === 'string' ? raw.accounts.split(',').map((a) => a.trim()).filter(Boolean) : raw.accounts
  const tlsSubject = structured(raw.tlsSubject, 'tlsSubject')
  if (tlsSubject !== undefined && (typeof tlsSubject !== 'object' || tlsSubject === null || Object.keys(tlsSubject).length === 0 || !Object.values(tlsSubject).every((v) => typeof v === 'string'))) {
    throw new CredentialRecordError('credential tlsSubject must map at least one subject attribute to a string')
  }
  return {
    id: raw.id,
    enabled: raw.enabled === undefined ? true : raw.enabled === true || raw.enabled === 'true' || raw.enabled === '1',
    subject: raw.subject,
    accounts,
    key,
    keyField,
    scheme: structured(raw.scheme, 'scheme'),
    tlsSubject,
  }
}

/** `HGETALL <prefix><apiKey>`: fields id, enabled, subject, accounts (comma list), secret | publicKey, scheme and tlsSubject (JSON). */
export class RedisCredentialSource implements CredentialSource {
  readonly name = 'redis'

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  async lookup(apiKey: string): Promise<CredentialRecord | undefined> {
    let hash: Record<string, string>
    try {
      hash = await this.redis.hgetall(this.prefix + apiKey)
    } catch (err) {
      throw new StoreUnavailableError('Redis credential store unavailable', { cause: err })
    }
    return Object.keys(hash).length === 0 ? undefined : recordFrom(hash)
  }
}

/**
 * `POST <url>` with `{"apiKey": …}` (in the body, so the key stays out of
 * access logs): 200 with the credential as JSON, 404 for an unknown key.
 */
export class HttpCredentialSource implements CredentialSource {
  readonly name = 'http'

  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
    private readonly headers: Record<string, string> = {},
  ) {}

  async lookup(apiKey: string): Promise<CredentialRecord | undefined> {
    let status: number
    let body: unknown
    try {
      const res = await request(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.headers },
        body: JSON.stringify({ apiKey }),
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      })
      status = res.statusCode
      body = status === 200 ? await res.body.json() : (await res.body.dump(), undefined)
    } catch (err) {
      throw new StoreUnavailableError(`credential lookup ${this.url} failed`, { cause: err })
    }
    if (status === 404) return undefined
    if (status !== 200) throw new StoreUnavailableError(`credential lookup ${this.url} answered ${status}`)
    if (typeof body !== 'object' || body === null) throw new CredentialRecordError('credential lookup answered a non-object')
    return recordFrom(body as RawCredential)
  }
}
