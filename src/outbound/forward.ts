import type { Dispatcher } from 'undici'
import { ERRORS, GatewayError } from '../errors.js'
import { isTimeout } from '../http.js'
import type { Signer } from '../signing/index.js'
import { injectTraceparent, SpanKind, startSpan, type Trace } from '../tracing.js'
import { retryable, signedHeaders } from './sign.js'

/**
 * One Exchange → Fireblocks call: signed with the exchange's credential and
 * sent to the one configured origin; failures (502, 503, 504, network errors,
 * timeouts) retried only when that cannot do anything twice, each attempt
 * signed anew with a fresh timestamp and nonce. undici directly, not
 * reply-from: every retry needs its own signature.
 */
export interface OutboundCall {
  method: string
  /** Path and query as admitted by the policy: what is forwarded, and signed (with `signedPrefix` before it). */
  target: string
  headers: Record<string, string>
  body: Buffer | undefined
  /** The outbound request's span: each attempt is a child of it, and carries its traceparent to Fireblocks. */
  trace?: Trace | undefined
}

export interface Forwarder {
  pool: Dispatcher
  /** The Fireblocks base URL's path, e.g. `/v1`: prefixed to every target. */
  prefix: string
  /** Also sign the prefix (outbound.signBasePath). */
  signBasePath: boolean
  signer: Signer
  apiKey: string
  retries: number
  timeoutMs: number
  /** Each attempt's outcome (`status` is the HTTP status, `timeout` or `error`), for metrics and logs. */
  onAttempt?: (attempt: { status: string; retry: number; seconds: number; error?: Error }) => void
}

const RETRY_STATUSES = new Set([502, 503, 504])

export async function forwardSigned(forwarder: Forwarder, call: OutboundCall): Promise<Dispatcher.ResponseData> {
  const { pool, prefix, signer, apiKey, timeoutMs, onAttempt } = forwarder
  const attempts = retryable(call.method, call.body) ? forwarder.retries + 1 : 1
  const signedEndpoint = forwarder.signBasePath ? prefix + call.target : call.target
  for (let attempt = 0; ; attempt++) {
    const last = attempt === attempts - 1
    const headers = { ...call.headers, ...signedHeaders(signer, apiKey, call.method, signedEndpoint, call.body) }
    const span = startSpan(call.trace, `fireblocks ${call.method}`, SpanKind.CLIENT)
    span?.span.setAttributes({ 'http.request.method': call.method, 'url.path': prefix + call.target.split('?')[0], 'http.request.resend_count': attempt })
    injectTraceparent(span?.trace, headers)
    const started = performance.now()
    const seconds = () => (performance.now() - started) / 1000
    try {
      const res = await pool.request({ method: call.method as 'GET', path: prefix + call.target, headers, body: call.body?.length ? call.body : null, signal: AbortSignal.timeout(timeoutMs) })
      span?.span.setAttribute('http.response.status_code', res.statusCode)
      span?.end()
      onAttempt?.({ status: String(res.statusCode), retry: attempt, seconds: seconds() })
      if (!RETRY_STATUSES.has(res.statusCode) || last) return res
      await res.body.dump()
    } catch (err) {
      span?.end(err)
      const timedOut = isTimeout(err)
      onAttempt?.({ status: timedOut ? 'timeout' : 'error', retry: attempt, seconds: seconds(), error: err as Error })
      if (last) throw new GatewayError(timedOut ? ERRORS.outboundTimeout : ERRORS.outboundUnavailable, {}, { cause: err })
    }
    await backoff(attempt)
  }
}

function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt))
}
