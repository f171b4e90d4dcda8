import { CredentialRecordError } from './credentials/credential.js'
import { MappingError } from './mapping/template.js'
import { StoreUnavailableError } from './nonce/store.js'
import { VerificationBusyError } from './signing/base58-pool.js'
import { KeyError, SchemeError } from './signing/index.js'
import { UpstreamError } from './upstream.js'

/**
 * Every error the gateway answers with, in one catalogue (as Fastify's
 * lib/errors.js): status, Network Link `errorType`, `propertyName`,
 * `requestPart`, and the metric `kind` and `reason` it is counted under. The
 * README's error table, the tests and the dashboard all read from here.
 *
 * Bodies follow the spec: `{ message, errorType, propertyName?, requestPart? }`.
 * UnauthorizedError allows only `X-FBAPI-KEY` as propertyName, so refusals of a
 * signature or a nonce name no property.
 */
/** Every errorType the spec defines (BadRequestError, UnauthorizedError, GeneralError). */
export const ERROR_TYPES = [
  'schema-error', 'schema-property-error', 'bad-request', 'unknown-asset', 'unsupported-conversion', 'quote-not-ready',
  'deposit-address-disabled', 'order-not-trading', 'idempotency-key-reuse', 'deposit-address-creation-not-allowed',
  'unsupported-transfer-method', 'transfer-destination-not-allowed', 'unsupported-ramp-method', 'unsupported-source-asset',
  'unsupported-destination-asset', 'amount-below-minimum', 'pii-missing', 'unsupported-external-source', 'unsupported-region',
  'destination-not-whitelisted', 'unauthorized', 'not-found', 'internal-error',
] as const
export type ErrorType = (typeof ERROR_TYPES)[number]
export type RequestPart = 'params' | 'body' | 'querystring' | 'headers'
/** What the refusal is about, for metrics: one counter per kind, labelled by reason. */
export type ErrorKind = 'source' | 'rate' | 'auth' | 'request' | 'route' | 'upstream' | 'mapping' | 'internal' | 'outbound'

export interface ErrorSpec {
  /** Stable identifier (`NLGW_` and the entry's name), for logs and for people searching for an error. */
  code?: string
  status: number
  errorType: ErrorType
  propertyName?: string
  requestPart?: RequestPart
  kind: ErrorKind
  reason: string
  message: string
}

const header = (name: string, status: number, errorType: ErrorType, reason: string, message: string): ErrorSpec => ({
  status,
  errorType,
  propertyName: name,
  requestPart: 'headers',
  kind: 'auth',
  reason,
  message,
})

const CATALOGUE = {
  sourceNotAllowed: { status: 403, errorType: 'unauthorized', kind: 'source', reason: 'peer_not_allowed', message: 'Source address not allowed' },
  forwardedSourceNotAllowed: { status: 403, errorType: 'unauthorized', kind: 'source', reason: 'forwarded_not_allowed', message: 'Forwarded source address not allowed' },
  tooManyRefusals: { status: 429, errorType: 'bad-request', kind: 'rate', reason: 'refused_address', message: 'Too many refused requests from this address, retry later' },
  rateLimited: { status: 429, errorType: 'bad-request', kind: 'rate', reason: 'credential', message: 'Rate limit exceeded for this API key, retry later' },
  rateLimitUnavailable: { status: 503, errorType: 'internal-error', kind: 'rate', reason: 'store_unavailable', message: 'Rate limit store unavailable, try again' },

  missingApiKey: header('X-FBAPI-KEY', 401, 'unauthorized', 'missing_header', 'Missing X-FBAPI-KEY header'),
  missingSignature: header('X-FBAPI-SIGNATURE', 400, 'schema-property-error', 'missing_header', 'Missing X-FBAPI-SIGNATURE header'),
  missingNonce: header('X-FBAPI-NONCE', 400, 'schema-property-error', 'missing_header', 'Missing X-FBAPI-NONCE header'),
  missingTimestamp: header('X-FBAPI-TIMESTAMP', 400, 'schema-property-error', 'missing_header', 'Missing X-FBAPI-TIMESTAMP header'),
  malformedNonce: header('X-FBAPI-NONCE', 400, 'schema-property-error', 'malformed_header', 'X-FBAPI-NONCE must be 1 to 128 visible ASCII characters'),
  malformedTimestamp: header('X-FBAPI-TIMESTAMP', 400, 'schema-property-error', 'malformed_header', 'X-FBAPI-TIMESTAMP must be milliseconds since the Unix epoch'),
  staleTimestamp: header('X-FBAPI-TIMESTAMP', 400, 'schema-property-error', 'bad_timestamp', 'X-FBAPI-TIMESTAMP is outside the accepted time window'),
  unknownApiKey: header('X-FBAPI-KEY', 401, 'unauthorized', 'unknown_key', 'Unknown API key'),
  disabledApiKey: header('X-FBAPI-KEY', 401, 'unauthorized', 'disabled_key', 'API key is disabled'),
  tlsSubjectMismatch: header('X-FBAPI-KEY', 401, 'unauthorized', 'tls_subject', 'API key not bound to this client certificate'),
  retiredConnection: { status: 401, errorType: 'unauthorized', kind: 'auth', reason: 'tls_retired', message: 'Connection verified by a client CA that has since been replaced: reconnect' },
  missingPlatformSignature: header('X-FB-PLATFORM-SIGNATURE', 400, 'schema-property-error', 'platform_signature', 'Missing X-FB-PLATFORM-SIGNATURE header'),
  badPlatformSignature: { status: 401, errorType: 'unauthorized', requestPart: 'headers', kind: 'auth', reason: 'platform_signature', message: 'Fireblocks platform signature verification failed' },
  badSignature: { status: 401, errorType: 'unauthorized', requestPart: 'headers', kind: 'auth', reason: 'bad_signature', message: 'Signature verification failed' },
  replayedNonce: { status: 401, errorType: 'unauthorized', requestPart: 'headers', kind: 'auth', reason: 'replayed_nonce', message: 'Nonce already used' },
  verificationBusy: { status: 503, errorType: 'internal-error', kind: 'auth', reason: 'verification_busy', message: 'Too many signatures waiting to be verified, try again' },
  storeUnavailable: { status: 503, errorType: 'internal-error', kind: 'auth', reason: 'store_unavailable', message: 'Authentication store unavailable, try again' },
  credentialInvalid: { status: 500, errorType: 'internal-error', kind: 'auth', reason: 'credential_invalid', message: 'Credential record is invalid' },
  accountNotPermitted: { status: 404, errorType: 'not-found', kind: 'auth', reason: 'account_scope', message: 'Account not found' },

  routeNotFound: { status: 404, errorType: 'not-found', kind: 'route', reason: 'no_route', message: 'Route not found' },
  dotSegment: { status: 400, errorType: 'bad-request', requestPart: 'params', kind: 'request', reason: 'dot_segment', message: 'Path must not contain "." or ".." segments' },
  nonCanonicalTarget: { status: 400, errorType: 'bad-request', requestPart: 'params', kind: 'request', reason: 'non_canonical_target', message: 'Request target is not in canonical form' },
  malformedRequest: { status: 400, errorType: 'bad-request', kind: 'request', reason: 'malformed_http', message: 'Malformed HTTP request' },
  targetTooLong: { status: 414, errorType: 'bad-request', requestPart: 'params', kind: 'request', reason: 'target_too_long', message: 'Request target too long' },
  requestTimeout: { status: 408, errorType: 'bad-request', kind: 'request', reason: 'request_timeout', message: 'Request not received in time' },
  headersTooLarge: { status: 431, errorType: 'bad-request', requestPart: 'headers', kind: 'request', reason: 'headers_too_large', message: 'Request headers too large' },
  bodyTooLarge: { status: 413, errorType: 'schema-error', requestPart: 'body', kind: 'request', reason: 'body_too_large', message: 'Request body too large' },
  invalidJson: { status: 400, errorType: 'schema-error', requestPart: 'body', kind: 'request', reason: 'invalid_json', message: 'Request body is not valid JSON' },

  requestInvalid: { status: 400, errorType: 'schema-property-error', kind: 'request', reason: 'schema_validation', message: 'Request schema validation error' },
  requestSchemaInvalid: { status: 400, errorType: 'schema-error', kind: 'request', reason: 'schema_validation', message: 'Request schema validation error' },
  paginationConflict: { status: 400, errorType: 'schema-error', propertyName: '/startingAfter', requestPart: 'querystring', kind: 'request', reason: 'pagination_conflict', message: "Only one of the parameters 'startingAfter' and 'endingBefore' can be used." },
  idempotencyKeyReuse: { status: 400, errorType: 'idempotency-key-reuse', propertyName: 'idempotencyKey', requestPart: 'body', kind: 'request', reason: 'idempotency_key_reuse', message: 'This idempotency key was used for a different request' },
  idempotencyInProgress: { status: 503, errorType: 'internal-error', kind: 'request', reason: 'idempotency_in_progress', message: 'A request with this idempotency key is still being processed, retry later' },
  requestNotMappable: { status: 400, errorType: 'bad-request', kind: 'request', reason: 'not_mappable', message: 'Request cannot be translated for the backend' },

  upstreamUnavailable: { status: 502, errorType: 'internal-error', kind: 'upstream', reason: 'unavailable', message: 'Backend unavailable' },
  upstreamTimeout: { status: 504, errorType: 'internal-error', kind: 'upstream', reason: 'timeout', message: 'Backend did not answer in time' },
  upstreamTooLarge: { status: 502, errorType: 'internal-error', kind: 'upstream', reason: 'too_large', message: 'Backend response too large' },
  upstreamNotJson: { status: 502, errorType: 'internal-error', kind: 'upstream', reason: 'not_json', message: 'Backend answered something other than JSON' },
  upstreamUnmapped: { status: 502, errorType: 'internal-error', kind: 'upstream', reason: 'unmapped_status', message: 'Backend answered with an error the mapping does not translate' },
  /** An error the backend answered and a mapping translated; status and errorType come from the mapping rule. */
  backendError: { status: 400, errorType: 'bad-request', kind: 'upstream', reason: 'mapped_error', message: 'Request refused by the backend' },
  responseInvalid: { status: 502, errorType: 'internal-error', kind: 'mapping', reason: 'response_invalid', message: 'Backend answer does not conform to the Network Link schema' },
  mappingFailed: { status: 502, errorType: 'internal-error', kind: 'mapping', reason: 'mapping_failed', message: 'Backend answer could not be translated' },
  /** A route's call refused (4xx) after an earlier call that changes something succeeded: neither done nor not done. */
  partiallyExecuted: { status: 502, errorType: 'internal-error', kind: 'upstream', reason: 'partially_executed', message: 'The backend carried out part of this request and refused the rest: it needs reconciling' },

  outboundUnauthorized: { status: 401, errorType: 'unauthorized', propertyName: 'Authorization', requestPart: 'headers', kind: 'outbound', reason: 'unauthorized', message: 'Outbound calls need the gateway token (Authorization: Bearer …)' },
  outboundMethod: { status: 405, errorType: 'bad-request', kind: 'outbound', reason: 'method', message: 'Method not forwarded to Fireblocks' },
  outboundNotAllowed: { status: 403, errorType: 'bad-request', kind: 'outbound', reason: 'not_allowed', message: 'Endpoint not in the outbound allow-list' },
  outboundUnavailable: { status: 502, errorType: 'internal-error', kind: 'outbound', reason: 'unavailable', message: 'Fireblocks unreachable' },
  outboundTimeout: { status: 504, errorType: 'internal-error', kind: 'outbound', reason: 'timeout', message: 'Fireblocks did not answer in time' },
  internal: { status: 500, errorType: 'internal-error', kind: 'internal', reason: 'internal', message: 'Internal error' },
} as const satisfies Record<string, ErrorSpec>

type Coded<T> = { readonly [K in keyof T]: T[K] & { readonly code: string } }

/** The catalogue, each entry with its code: `missingApiKey` is `NLGW_MISSING_API_KEY`. */
export const ERRORS = Object.fromEntries(
  Object.entries(CATALOGUE).map(([name, spec]) => [name, { code: `NLGW_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`, ...spec }]),
) as Coded<typeof CATALOGUE>

/**
 * Messages and property names may carry text from a backend or a client (an
 * error rule relays `$body.error.msg`): clipped, so that an answer, and the
 * idempotency record that keeps it for 72 h, stays small whatever they say.
 */
export const MAX_MESSAGE = 1024
const clip = (text: string) => (text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text)

/** A refusal or failure with its catalogue entry; `detail` refines message or property for the body. */
export class GatewayError extends Error {
  readonly spec: ErrorSpec
  readonly body: NetworkLinkError

  constructor(spec: ErrorSpec, detail: Partial<Pick<ErrorSpec, 'message' | 'propertyName' | 'requestPart'>> = {}, options?: { cause?: unknown }) {
    const message = clip(detail.message ?? spec.message)
    super(message, options)
    this.name = 'GatewayError'
    this.spec = spec
    const propertyName = detail.propertyName === undefined ? spec.propertyName : clip(detail.propertyName)
    const requestPart = detail.requestPart ?? spec.requestPart
    this.body = {
      message,
      errorType: spec.errorType,
      ...(propertyName !== undefined ? { propertyName } : {}),
      ...(requestPart !== undefined ? { requestPart } : {}),
    }
  }
}

export interface NetworkLinkError {
  message: string
  errorType: ErrorType
  propertyName?: string
  requestPart?: RequestPart
}

/**
 * Any error as the catalogue entry it is answered with: a store that cannot
 * answer is a 503, a credential record that cannot be used a 500, a backend
 * that failed a 502/504, a mapping that failed a 502 (`onMappingError` sees it
 * first, to log which template), anything unexpected a 500 that keeps its
 * cause for the log.
 */
export function toGatewayError(err: unknown, onMappingError?: (err: MappingError) => void): GatewayError {
  if (err instanceof GatewayError) return err
  if (err instanceof StoreUnavailableError) return new GatewayError(ERRORS.storeUnavailable, {}, { cause: err })
  if (err instanceof VerificationBusyError) return new GatewayError(ERRORS.verificationBusy, {}, { cause: err })
  if (err instanceof CredentialRecordError || err instanceof SchemeError || err instanceof KeyError) return new GatewayError(ERRORS.credentialInvalid, {}, { cause: err })
  if (err instanceof UpstreamError) {
    const spec = err.kind === 'timeout' ? ERRORS.upstreamTimeout : err.kind === 'too-large' ? ERRORS.upstreamTooLarge : ERRORS.upstreamUnavailable
    return new GatewayError(spec, {}, { cause: err })
  }
  if (err instanceof MappingError) {
    onMappingError?.(err)
    return new GatewayError(ERRORS.mappingFailed, {}, { cause: err })
  }
  return new GatewayError(ERRORS.internal, {}, { cause: err })
}
