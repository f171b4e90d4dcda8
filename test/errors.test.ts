import t from 'tap'
import { ERROR_TYPES, ERRORS, GatewayError, MAX_MESSAGE, toGatewayError } from '../src/errors.js'
import { MappingError } from '../src/mapping/template.js'
import { COUNTER_BY_KIND } from '../src/metrics.js'
import { StoreUnavailableError } from '../src/nonce/store.js'
import { UpstreamError } from '../src/upstream.js'

/** As fastify's test/internals/errors.test.js: the catalogue is a contract; a rename or removal shows here. */
t.test('every entry has its own stable code', async (t) => {
  t.same(
    Object.values(ERRORS).map((e) => e.code),
    [
      'NLGW_SOURCE_NOT_ALLOWED', 'NLGW_FORWARDED_SOURCE_NOT_ALLOWED', 'NLGW_TOO_MANY_REFUSALS', 'NLGW_RATE_LIMITED', 'NLGW_RATE_LIMIT_UNAVAILABLE',
      'NLGW_MISSING_API_KEY', 'NLGW_MISSING_SIGNATURE', 'NLGW_MISSING_NONCE', 'NLGW_MISSING_TIMESTAMP', 'NLGW_MALFORMED_NONCE', 'NLGW_MALFORMED_TIMESTAMP',
      'NLGW_STALE_TIMESTAMP', 'NLGW_UNKNOWN_API_KEY', 'NLGW_DISABLED_API_KEY', 'NLGW_TLS_SUBJECT_MISMATCH', 'NLGW_RETIRED_CONNECTION', 'NLGW_MISSING_PLATFORM_SIGNATURE', 'NLGW_BAD_PLATFORM_SIGNATURE',
      'NLGW_BAD_SIGNATURE', 'NLGW_REPLAYED_NONCE', 'NLGW_VERIFICATION_BUSY', 'NLGW_STORE_UNAVAILABLE', 'NLGW_CREDENTIAL_INVALID', 'NLGW_ACCOUNT_NOT_PERMITTED',
      'NLGW_ROUTE_NOT_FOUND', 'NLGW_DOT_SEGMENT', 'NLGW_NON_CANONICAL_TARGET', 'NLGW_MALFORMED_REQUEST', 'NLGW_TARGET_TOO_LONG', 'NLGW_REQUEST_TIMEOUT', 'NLGW_HEADERS_TOO_LARGE',
      'NLGW_BODY_TOO_LARGE', 'NLGW_INVALID_JSON', 'NLGW_REQUEST_INVALID', 'NLGW_REQUEST_SCHEMA_INVALID', 'NLGW_PAGINATION_CONFLICT',
      'NLGW_IDEMPOTENCY_KEY_REUSE', 'NLGW_IDEMPOTENCY_IN_PROGRESS', 'NLGW_REQUEST_NOT_MAPPABLE', 'NLGW_UPSTREAM_UNAVAILABLE', 'NLGW_UPSTREAM_TIMEOUT',
      'NLGW_UPSTREAM_TOO_LARGE', 'NLGW_UPSTREAM_NOT_JSON', 'NLGW_UPSTREAM_UNMAPPED', 'NLGW_BACKEND_ERROR', 'NLGW_RESPONSE_INVALID', 'NLGW_MAPPING_FAILED', 'NLGW_PARTIALLY_EXECUTED',
      'NLGW_OUTBOUND_UNAUTHORIZED', 'NLGW_OUTBOUND_METHOD', 'NLGW_OUTBOUND_NOT_ALLOWED', 'NLGW_OUTBOUND_UNAVAILABLE', 'NLGW_OUTBOUND_TIMEOUT', 'NLGW_INTERNAL',
    ],
  )
  const codes = Object.values(ERRORS).map((e) => e.code)
  t.equal(new Set(codes).size, codes.length, 'unique')
})

t.test('every entry is a well-formed Network Link error with a counter', async (t) => {
  for (const [name, e] of Object.entries(ERRORS)) {
    t.ok(e.status >= 400 && e.status < 600, `${name}: an error status`)
    t.ok((ERROR_TYPES as readonly string[]).includes(e.errorType), `${name}: errorType from the spec`)
    t.match(e.reason, /^[a-z][a-z0-9_]*$/, `${name}: a metric label`)
    t.ok(COUNTER_BY_KIND[e.kind], `${name}: counted`)
    t.ok(e.message.length > 0, `${name}: a message`)
    const body = new GatewayError(e).body
    t.same(Object.keys(body).filter((k) => !['message', 'errorType', 'propertyName', 'requestPart'].includes(k)), [], `${name}: only the spec's fields in the body`)
  }
})

t.test('toGatewayError: one translation of every failure into the catalogue', async (t) => {
  const own = new GatewayError(ERRORS.replayedNonce)
  t.equal(toGatewayError(own), own)
  t.equal(toGatewayError(new StoreUnavailableError('down')).spec, ERRORS.storeUnavailable)
  t.equal(toGatewayError(new UpstreamError('timeout', 'slow')).spec, ERRORS.upstreamTimeout)
  t.equal(toGatewayError(new UpstreamError('too-large', 'big')).spec, ERRORS.upstreamTooLarge)
  t.equal(toGatewayError(new UpstreamError('unavailable', 'down')).spec, ERRORS.upstreamUnavailable)
  const seen: string[] = []
  t.equal(toGatewayError(new MappingError('routes.0.response', 'no such field'), (err) => seen.push(err.message)).spec, ERRORS.mappingFailed)
  t.same(seen, ['routes.0.response: no such field'], 'a mapping failure is reported before it becomes a 502')
  const unexpected = toGatewayError(new TypeError('boom'))
  t.same([unexpected.spec, (unexpected.cause as Error).message, unexpected.body], [ERRORS.internal, 'boom', { message: 'Internal error', errorType: 'internal-error' }], 'the cause is kept for the log, never shown')
})

t.test('text relayed from a backend or a client is clipped in every answer', async (t) => {
  const long = new GatewayError(ERRORS.backendError, { message: 'm'.repeat(60_000), propertyName: 'p'.repeat(5000) })
  t.equal(long.body.message.length, MAX_MESSAGE)
  t.equal(long.body.propertyName?.length, MAX_MESSAGE)
  t.ok(long.body.message.endsWith('…'))
})
