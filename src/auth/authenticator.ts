import type { Credential } from '../credentials/credential.js'
import { ERRORS, GatewayError, toGatewayError } from '../errors.js'
import type { NonceStore } from '../nonce/store.js'
import type { RouteTable } from '../route-table.js'
import { accountIdOf } from '../request/scope.js'
import type { RequestTarget } from '../request/target.js'
import { OFFLOAD_BYTES } from '../signing/base58-pool.js'
import { buildMessage, type Verifier, type VerifyOutcome } from '../signing/index.js'
import { subjectMatches, type CertificateSubject } from '../tls.js'
import { inSpan, type Trace } from '../tracing.js'

/** Request headers as Node delivers them (lower-cased names). */
export type Headers = Readonly<Record<string, string | string[] | undefined>>

/** A caller that passed the cheap checks and still has to prove its signature. */
export interface Identified {
  credential: Credential
  timestamp: string
  nonce: string
  signature: string
  platformSignature: string
  /** The most body bytes this caller's scheme may make the gateway pre-encode before its signature is known. */
  bodyLimit: number
}

/** Off-exchange routes also carry Fireblocks' own signature (SPEC-README, "platform signature"). */
export interface PlatformSignature {
  /** One per configured Fireblocks key: any may verify, so keys can be rotated. */
  verifiers: readonly Verifier[]
  /** The routes that require it, matched on the canonical target's decoded segments. */
  routes: RouteTable
}

export interface AuthenticatorOptions {
  credentials: CredentialResolver
  nonces: NonceStore
  timestampWindowMs: number
  /** A nonce is remembered at least this long after it is accepted (0: only as long as its timestamp is acceptable). */
  nonceTtlMs?: number
  /** `server.bodyLimit`, and the lower bound for schemes with a super-linear pre-encoding (base58). */
  bodyLimit: number
  base58BodyLimit: number
  platform?: PlatformSignature
  /** Encodes large base58 messages off the event loop (src/signing/base58-pool.ts). */
  base58?: { encode(bytes: Uint8Array): Promise<Buffer> }
  now?: () => number
}

interface CredentialResolver {
  resolve(apiKey: string): Promise<Credential | undefined>
}

/**
 * A nonce outlives the moment its timestamp stops being acceptable by this
 * much: clocks of replicas that share Redis may disagree by up to this.
 */
export const NONCE_MARGIN_MS = 5_000

const MAX_API_KEY = 256

/**
 * The scope nonces and idempotency keys are remembered in: the customer the
 * credential acts for, percent-encoded so that no subject can spell another
 * scope's key (store keys join scope and value with ':').
 */
export function subjectScope(subject: string): string {
  return encodeURIComponent(subject)
}
/** Where platform-signed nonces are remembered as well; `#` never appears in a subject scope. */
const PLATFORM_SCOPE = '#platform'
const NONCE = /^[\x21-\x7e]{1,128}$/
const TIMESTAMP = /^\d{1,15}$/

function single(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '')
}

/**
 * The authentication pipeline, cheapest checks first:
 *   identify(): headers present and well-formed → timestamp window → credential
 *     (unknown or disabled key refused before any cryptography; needs no body)
 *     → the client certificate, for a key bound to one;
 *   verify():   timestamp window again (the body may have taken a while) →
 *     signature over the target as received and the raw body → Fireblocks'
 *     platform signature where required → nonce recorded until its timestamp
 *     expires → account scope.
 * Every decision about the target reads the canonical RequestTarget; the
 * signature alone reads its `endpoint` (the bytes as sent). Nothing is written
 * to a store until the signature has been verified.
 */
export class Authenticator {
  private readonly now: () => number
  private platform: PlatformSignature | undefined

  constructor(private readonly options: AuthenticatorOptions) {
    this.now = options.now ?? Date.now
    this.platform = options.platform
  }

  /** A reload's platform keys and routes replace the old ones at once. */
  setPlatform(platform: PlatformSignature | undefined): void {
    this.platform = platform
  }

  /**
   * `endpointLength`: the signed endpoint's length, which a base58 credential's limit counts along with the body.
   * `clientSubject` reads the connection's verified client certificate; asked only for a key bound to one.
   */
  async identify(headers: Headers, endpointLength = 0, clientSubject?: () => CertificateSubject | undefined): Promise<Identified> {
    const apiKey = single(headers['x-fbapi-key'])
    const signature = single(headers['x-fbapi-signature'])
    const nonce = single(headers['x-fbapi-nonce'])
    const timestamp = single(headers['x-fbapi-timestamp'])
    if (apiKey === '') throw new GatewayError(ERRORS.missingApiKey)
    if (signature === '') throw new GatewayError(ERRORS.missingSignature)
    if (nonce === '') throw new GatewayError(ERRORS.missingNonce)
    if (timestamp === '') throw new GatewayError(ERRORS.missingTimestamp)
    if (!NONCE.test(nonce)) throw new GatewayError(ERRORS.malformedNonce)
    if (!TIMESTAMP.test(timestamp)) throw new GatewayError(ERRORS.malformedTimestamp)
    this.checkWindow(timestamp)
    if (apiKey.length > MAX_API_KEY) throw new GatewayError(ERRORS.unknownApiKey)

    const credential = await this.lookup(apiKey)
    if (credential === undefined) throw new GatewayError(ERRORS.unknownApiKey)
    if (!credential.enabled) throw new GatewayError(ERRORS.disabledApiKey)
    if (credential.tlsSubject && !subjectMatches(credential.tlsSubject, clientSubject?.())) throw new GatewayError(ERRORS.tlsSubjectMismatch)
    const { bodyLimit, base58BodyLimit } = this.options
    // A base58 pre-encoding costs super-linear CPU in the whole message, target and body alike.
    const base58 = credential.verifier.scheme.preEncoding === 'base58'
    if (base58 && endpointLength > base58BodyLimit) throw new GatewayError(ERRORS.targetTooLong)
    return {
      credential,
      timestamp,
      nonce,
      signature,
      platformSignature: single(headers['x-fb-platform-signature']),
      bodyLimit: base58 ? Math.min(bodyLimit, base58BodyLimit - endpointLength) : bodyLimit,
    }
  }

  /** `body` is the raw bytes as received; the nonce claim is traced under `trace`. */
  async verify(identified: Identified, method: string, target: RequestTarget, body: Buffer | undefined, trace?: Trace): Promise<void> {
    const { credential, timestamp, nonce, signature, platformSignature } = identified
    const now = this.checkWindow(timestamp)
    const message = buildMessage({ timestamp, nonce, method, endpoint: target.endpoint, body })
    const outcome = await this.checkSignature(credential.verifier, message, signature)
    if (outcome !== 'valid') throw new GatewayError(ERRORS.badSignature, {}, { cause: outcome })
    const platform = this.platform
    const platformSigned = platform?.routes.match(method, target.segments) !== undefined
    if (platform && platformSigned) {
      if (platformSignature === '') throw new GatewayError(ERRORS.missingPlatformSignature)
      if (!platform.verifiers.some((v) => v.verify(message, platformSignature) === 'valid')) throw new GatewayError(ERRORS.badPlatformSignature)
    }
    // Remembered for as long as this timestamp could be accepted again, wherever the clock is within the margin.
    const retainMs = Math.max(Number(timestamp) + this.options.timestampWindowMs + NONCE_MARGIN_MS - now, this.options.nonceTtlMs ?? 0)
    // Per customer, not per credential: the same request re-signed with another key of the same customer
    // (a rotation, or a second key) is a replay too. Fireblocks' own signature does not cover the API key,
    // so a platform-signed message is accepted once whoever presents it.
    const scopes = [subjectScope(credential.subject), ...(platformSigned ? [PLATFORM_SCOPE] : [])]
    for (const scope of scopes) {
      let fresh: boolean
      try {
        fresh = await inSpan(trace, 'nonce claim', () => this.options.nonces.claim(scope, nonce, retainMs))
      } catch (err) {
        throw toGatewayError(err)
      }
      if (!fresh) throw new GatewayError(ERRORS.replayedNonce)
    }
    const accountId = accountIdOf(target)
    if (accountId !== undefined && credential.accounts !== undefined && !credential.accounts.has(accountId)) {
      throw new GatewayError(ERRORS.accountNotPermitted)
    }
  }

  private async checkSignature(verifier: Verifier, message: Buffer, signature: string): Promise<VerifyOutcome> {
    const pool = this.options.base58
    if (!pool || verifier.scheme.preEncoding !== 'base58' || message.length < OFFLOAD_BYTES) return verifier.verify(message, signature)
    try {
      return verifier.verifyPreEncoded(await pool.encode(message), signature)
    } catch (err) {
      throw toGatewayError(err)
    }
  }

  /** |now − timestamp| within the window, both directions; returns now. */
  private checkWindow(timestamp: string): number {
    const now = this.now()
    if (Math.abs(now - Number(timestamp)) > this.options.timestampWindowMs) throw new GatewayError(ERRORS.staleTimestamp)
    return now
  }

  private async lookup(apiKey: string): Promise<Credential | undefined> {
    try {
      return await this.options.credentials.resolve(apiKey)
    } catch (err) {
      throw toGatewayError(err)
    }
  }
}
