import type { IncomingHttpHeaders } from 'node:http'
import { forwardableHeaders, isSignatureHeader } from './http.js'
import type { Credential } from './credentials/credential.js'
import { ERRORS, GatewayError } from './errors.js'
import { checkCursors, type PageQuery } from './mapping/paginate.js'
import type { OperationValidators } from './openapi/validators.js'
import { parseJsonBody } from './request/body.js'
import { checkBodyAccounts } from './request/scope.js'
import type { RequestTarget } from './request/target.js'

/**
 * What an unmapped, authenticated Network Link request carries to the
 * backend when passthrough is on (the plugin hands it to @fastify/reply-from).
 * The target is the canonical one: the path re-encoded from its decoded
 * segments under the configured prefix, and the query as received (validated,
 * and read by no decision of the gateway's). Headers are an allow-list: a
 * client's other headers (a back-office credential, cookies) never reach the
 * backend, and the identity header is always the gateway's.
 */
export const PASSTHROUGH_HEADERS = ['accept', 'accept-language', 'user-agent', 'traceparent', 'tracestate'] as const

export interface PassthroughPolicy {
  /** The path on the backend (the query travels apart, as received). */
  upstreamPath(target: RequestTarget): string
  /** The request headers the backend receives for this credential's subject. */
  headers(incoming: IncomingHttpHeaders, subject: string): Record<string, string>
}

export interface PassthroughOptions {
  /** Upstream path prefix replacing the Network Link base path, e.g. `/internal/nl`. */
  prefix: string
  subjectHeader: string
  /** Request headers forwarded besides PASSTHROUGH_HEADERS. */
  forwardHeaders: readonly string[]
  /** Also forward `X-FBAPI-*` / `X-FB-PLATFORM-*`. */
  forwardFbapiHeaders: boolean
}

export function passthroughPolicy({ prefix, subjectHeader, forwardHeaders, forwardFbapiHeaders }: PassthroughOptions): PassthroughPolicy {
  const allowed = new Set<string>([...PASSTHROUGH_HEADERS, ...forwardHeaders.map((name) => name.toLowerCase())])
  // The identity header is the gateway's; the body's type is set with the body (application/json, once admitted).
  allowed.delete(subjectHeader)
  allowed.delete('content-type')
  const drop = (name: string) => !allowed.has(name) && !(forwardFbapiHeaders && isSignatureHeader(name))
  return {
    upstreamPath(target) {
      // @fastify/reply-from refuses any path holding "/.." or "../" once decoded, which a segment
      // that starts or ends with ".." makes: refused here in the catalogue's words instead.
      if (target.segments.some((segment) => segment.startsWith('..') || segment.endsWith('..'))) {
        throw new GatewayError(ERRORS.nonCanonicalTarget, { message: 'Passthrough cannot forward a path segment that starts or ends with ".."' })
      }
      return prefix + target.path
    },
    headers(incoming, subject) {
      const headers = forwardableHeaders(incoming, drop)
      headers[subjectHeader] = subject
      return headers
    },
  }
}

/**
 * What an unmapped request must satisfy before it is forwarded, as a mapped one
 * does: a body that means one thing (the backend parses the bytes itself), the
 * accounts it names in scope, the pagination cursors, and the OpenAPI document's
 * schema when it is loaded. Idempotency is the backend's own on these routes:
 * passthrough is for backends that already speak Network Link.
 */
export function admitPassthrough(routeKey: string, params: Record<string, string>, target: RequestTarget, body: Buffer | undefined, credential: Pick<Credential, 'accounts'>, validators: OperationValidators | undefined): void {
  const value = parseJsonBody(body)
  checkBodyAccounts(routeKey, value, credential)
  const query: Record<string, unknown> = { ...target.query }
  if (validators?.operation.queryNames.includes('startingAfter')) checkCursors(query as PageQuery)
  validators?.request({ ...params }, query, value)
}
