import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import { ERRORS, type ErrorSpec } from './errors.js'

/**
 * The gateway's Prometheus metrics, one registry per gateway instance.
 * Labels are bounded: route templates (never raw paths), reasons from the
 * error catalogue, store names; API key ids only when explicitly enabled.
 * Every catalogue reason and every result label starts at zero, so that
 * dashboards draw flat lines and alerts on increase() fire on the first event.
 */
const ERROR_COUNTERS = {
  nlgw_source_refusals_total: 'Requests refused because of their source address (server.allow), by reason',
  nlgw_rate_limit_refusals_total: 'Requests refused by a rate limit (429) or because its store could not answer, by reason',
  nlgw_auth_refusals_total: 'Requests refused by authentication, by reason',
  nlgw_request_refusals_total: 'Requests refused as malformed, invalid or unroutable, by reason',
  nlgw_upstream_errors_total: 'Backend calls that failed or answered an error, by reason',
  nlgw_internal_errors_total: 'Mapping failures and unexpected gateway errors, by reason',
  nlgw_outbound_refusals_total: 'Exchange to Fireblocks calls refused or failed by the gateway, by reason',
} as const
export type ErrorCounter = keyof typeof ERROR_COUNTERS

/** The counter each kind of catalogue error is counted in, labelled by its reason. */
export const COUNTER_BY_KIND: Record<ErrorSpec['kind'], ErrorCounter> = {
  source: 'nlgw_source_refusals_total',
  rate: 'nlgw_rate_limit_refusals_total',
  auth: 'nlgw_auth_refusals_total',
  request: 'nlgw_request_refusals_total',
  route: 'nlgw_request_refusals_total',
  mapping: 'nlgw_internal_errors_total',
  upstream: 'nlgw_upstream_errors_total',
  internal: 'nlgw_internal_errors_total',
  outbound: 'nlgw_outbound_refusals_total',
}

/** Sub-millisecond to seconds: a sidecar adds little, a backend may take long. */
export const SIDECAR_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export type StoreName = 'nonce' | 'idempotency' | 'credential' | 'rate_limit'

export interface GatewayMetrics {
  registry: Registry
  requests: Counter<'route' | 'method' | 'status'>
  requestDuration: Histogram<'route' | 'method'>
  upstreamDuration: Histogram<'route' | 'status'>
  errors: Record<ErrorCounter, Counter<'reason'>>
  /** Only with `metrics.apiKeyLabel`: auth refusals by credential id (cardinality grows with credentials). */
  authRefusalsByKey?: Counter<'reason' | 'key'>
  storeDuration: Histogram<'store' | 'backend'>
  storeErrors: Counter<'store' | 'backend'>
  credentialCache: Counter<'result'>
  /** Each attempt of an Exchange → Fireblocks call: allow-list route (or method), status, retry number. */
  outboundRequests: Counter<'route' | 'status' | 'retry'>
  outboundDuration: Histogram<'route'>
  idempotentReplays: Counter<'route'>
  responseInvalid: Counter<'route'>
  reloads: Counter<'result'>
  /** 1, labelled with the digest of the loaded config and mappings. */
  configInfo: Gauge<'hash'>
  /** Counts a catalogue error under the counter for its kind. */
  countError(spec: ErrorSpec, keyId?: string): void
}

export interface MetricsOptions {
  registry?: Registry
  apiKeyLabel?: boolean
  /** Node process metrics (CPU, memory, event loop, GC). */
  processMetrics?: boolean
}

export function createMetrics({ registry = new Registry(), apiKeyLabel = false, processMetrics = true }: MetricsOptions = {}): GatewayMetrics {
  if (processMetrics) collectDefaultMetrics({ register: registry })
  const registers = [registry]
  const errors = Object.fromEntries(
    Object.entries(ERROR_COUNTERS).map(([name, help]) => [name, new Counter({ name, help, labelNames: ['reason'] as const, registers })]),
  ) as Record<ErrorCounter, Counter<'reason'>>
  for (const spec of Object.values(ERRORS)) errors[COUNTER_BY_KIND[spec.kind]].inc({ reason: spec.reason }, 0)

  const reloads = new Counter({ name: 'nlgw_config_reloads_total', help: 'Config and mapping reloads, by result', labelNames: ['result'] as const, registers })
  for (const result of ['success', 'failure']) reloads.inc({ result }, 0)
  const storeErrors = new Counter({ name: 'nlgw_store_errors_total', help: 'Store operations that failed (the request was refused), by store', labelNames: ['store', 'backend'] as const, registers })
  const credentialCache = new Counter({ name: 'nlgw_credential_cache_total', help: 'Credential cache lookups, by result', labelNames: ['result'] as const, registers })
  for (const result of ['hit', 'miss']) credentialCache.inc({ result }, 0)
  const authRefusalsByKey = apiKeyLabel
    ? new Counter({ name: 'nlgw_auth_refusals_by_key_total', help: 'Authentication refusals by reason and credential id', labelNames: ['reason', 'key'] as const, registers })
    : undefined

  return {
    registry,
    requests: new Counter({ name: 'nlgw_http_requests_total', help: 'Network Link requests, by route template, method and status', labelNames: ['route', 'method', 'status'] as const, registers }),
    requestDuration: new Histogram({ name: 'nlgw_http_request_duration_seconds', help: 'Time to answer a Network Link request, by route template', labelNames: ['route', 'method'] as const, buckets: SIDECAR_BUCKETS, registers }),
    upstreamDuration: new Histogram({ name: 'nlgw_upstream_duration_seconds', help: 'Time of each backend call, by Network Link route and backend status', labelNames: ['route', 'status'] as const, buckets: SIDECAR_BUCKETS, registers }),
    errors,
    ...(authRefusalsByKey ? { authRefusalsByKey } : {}),
    storeDuration: new Histogram({ name: 'nlgw_store_duration_seconds', help: 'Latency of nonce, idempotency and credential store operations', labelNames: ['store', 'backend'] as const, buckets: SIDECAR_BUCKETS, registers }),
    storeErrors,
    credentialCache,
    outboundRequests: new Counter({ name: 'nlgw_outbound_requests_total', help: 'Signed Exchange to Fireblocks call attempts, by route, status and retry number', labelNames: ['route', 'status', 'retry'] as const, registers }),
    outboundDuration: new Histogram({ name: 'nlgw_outbound_duration_seconds', help: 'Time of each Exchange to Fireblocks attempt, by route', labelNames: ['route'] as const, buckets: SIDECAR_BUCKETS, registers }),
    idempotentReplays: new Counter({ name: 'nlgw_idempotent_replays_total', help: 'Retries answered with the stored response, by route', labelNames: ['route'] as const, registers }),
    responseInvalid: new Counter({ name: 'nlgw_response_validation_failures_total', help: 'Mapped responses that break the OpenAPI schema, by route', labelNames: ['route'] as const, registers }),
    reloads,
    // With workers, the primary sums each metric over them; this one is the same in every worker.
    configInfo: new Gauge({ name: 'nlgw_config_info', help: 'The loaded config and mappings, by digest', labelNames: ['hash'] as const, registers, aggregator: 'max' }),
    countError(spec, keyId) {
      errors[COUNTER_BY_KIND[spec.kind]].inc({ reason: spec.reason })
      if (authRefusalsByKey && spec.kind === 'auth' && keyId) authRefusalsByKey.inc({ reason: spec.reason, key: keyId })
    },
  }
}

/** Runs a store operation, observing its latency and counting its failure. */
export async function timed<T>(metrics: GatewayMetrics, store: StoreName, backend: string, operation: () => Promise<T>): Promise<T> {
  const end = metrics.storeDuration.startTimer({ store, backend })
  try {
    return await operation()
  } catch (err) {
    metrics.storeErrors.inc({ store, backend })
    throw err
  } finally {
    end()
  }
}
