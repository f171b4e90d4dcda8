import { CredentialRecordError } from '../credentials/sources.js'
import type { Credential } from '../credentials/credential.js'
import type { CredentialResolver } from '../credentials/resolver.js'
import { ERRORS, GatewayError, type ErrorSpec } from '../errors.js'
import { pathOf } from '../http.js'
import { StoreUnavailableError, type NonceStore } from '../nonce/store.js'
import { KeyError, SchemeError, buildMessage, type Verifier } from '../signing/index.js'

/** Request headers as Node delivers them (lower-cased names). */
export type Headers = Readonly<Record<string, string | string[] | undefined>>

/** A caller that passed the cheap checks and still has to prove its signature. */
export interface Identified {
  credential: Credential
  timestamp: string
  nonce: string
  signature: string
  platformSignature: string
}

/** Off-exchange routes also carry Fireblocks' own signature (SPEC-README, "platform signature"). */
export interface PlatformSignature {
  /** One per configured Fireblocks key: any may verify, so keys can be rotated. */
  verifiers: readonly Verifier[]
  requiredFor(method: string, path: string): boolean
}

export interface AuthenticatorOptions {
  credentials: CredentialResolver
  nonces: NonceStore
  timestampWindowMs: number
  platform?: PlatformSignature
  now?: () => number
}

const MAX_API_KEY = 256
const NONCE = /^[\x21-\x7e]{1,128}$/
const TIMESTAMP = /^\d{1,15}$/

function single(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '')
}

/**
 * The authentication pipeline, cheapest checks first:
 *   identify(): headers present and well-formed → timestamp window → credential
 *     (unknown or disabled key refused before any cryptography; needs no body);
 *   verify():   signature over the raw target and raw body → Fireblocks'
 *     platform signature where required → nonce recorded → account scope.
 * Nothing is written to a store until the signature has been verified.
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

  async identify(headers: Headers): Promise<Identified> {
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
    if (Math.abs(this.now() - Number(timestamp)) > this.options.timestampWindowMs) throw new GatewayError(ERRORS.staleTimestamp)
    if (apiKey.length > MAX_API_KEY) throw new GatewayError(ERRORS.unknownApiKey)

    const credential = await this.lookup(apiKey)
    if (credential === undefined) throw new GatewayError(ERRORS.unknownApiKey)
    if (!credential.enabled) throw new GatewayError(ERRORS.disabledApiKey)
    return { credential, timestamp, nonce, signature, platformSignature: single(headers['x-fb-platform-signature']) }
  }

  /**
   * `endpoint` is the request target as received minus the base path; `body`
   * the raw bytes as received. `accountId` is checked against the credential's
   * account scope once the caller is proven.
   */
  async verify(identified: Identified, method: string, endpoint: string, body: Buffer | undefined, accountId?: string): Promise<void> {
    const { credential, timestamp, nonce, signature, platformSignature } = identified
    const message = buildMessage({ timestamp, nonce, method, endpoint, body })
    const outcome = credential.verifier.verify(message, signature)
    if (outcome !== 'valid') throw new GatewayError(ERRORS.badSignature, {}, { cause: outcome })
    const platform = this.platform
    if (platform?.requiredFor(method, pathOf(endpoint))) {
      if (platformSignature === '') throw new GatewayError(ERRORS.missingPlatformSignature)
      if (!platform.verifiers.some((v) => v.verify(message, platformSignature) === 'valid')) throw new GatewayError(ERRORS.badPlatformSignature)
    }
    let fresh: boolean
    try {
      fresh = await this.options.nonces.claim(credential.id, nonce)
    } catch (err) {
      throw storeError(err)
    }
    if (!fresh) throw new GatewayError(ERRORS.replayedNonce)
    if (accountId !== undefined && credential.accounts !== undefined && !credential.accounts.has(accountId)) {
      throw new GatewayError(ERRORS.accountNotPermitted)
    }
  }

  private async lookup(apiKey: string): Promise<Credential | undefined> {
    try {
      return await this.options.credentials.resolve(apiKey)
    } catch (err) {
      throw storeError(err)
    }
  }
}

function storeError(err: unknown): GatewayError {
  const spec: ErrorSpec | undefined =
    err instanceof StoreUnavailableError
      ? ERRORS.storeUnavailable
      : err instanceof CredentialRecordError || err instanceof SchemeError || err instanceof KeyError
        ? ERRORS.credentialInvalid
        : undefined
  if (spec === undefined) throw err
  return new GatewayError(spec, {}, { cause: err })
}
