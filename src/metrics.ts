import { Counter, Gauge, Registry } from 'prom-client'
import type { ErrorSpec } from './errors.js'

/**
 * The gateway's Prometheus metrics, in one registry per gateway instance.
 * Labels are bounded: route templates, never raw paths; reasons from the
 * error catalogue; API key ids only when explicitly enabled.
 */
const ERROR_COUNTERS = {
  nlgw_auth_refusals_total: 'Requests refused by authentication, by reason',
  nlgw_request_refusals_total: 'Requests refused as malformed or unroutable, by reason',
  nlgw_upstream_errors_total: 'Backend calls that failed, by reason',
  nlgw_internal_errors_total: 'Unexpected gateway errors, by reason',
} as const
export type ErrorCounter = keyof typeof ERROR_COUNTERS

/** The counter each kind of catalogue error is counted in, labelled by its reason. */
export const COUNTER_BY_KIND: Record<ErrorSpec['kind'], ErrorCounter> = {
  auth: 'nlgw_auth_refusals_total',
  request: 'nlgw_request_refusals_total',
  route: 'nlgw_request_refusals_total',
  mapping: 'nlgw_internal_errors_total',
  upstream: 'nlgw_upstream_errors_total',
  internal: 'nlgw_internal_errors_total',
}

export interface GatewayMetrics {
  registry: Registry
  errors: Record<ErrorCounter, Counter<'reason'>>
  reloads: Counter<'result'>
  /** 1, labelled with the digest of the loaded config and mappings. */
  configInfo: Gauge<'hash'>
  idempotentReplays: Counter<'route'>
  /** Each attempt of an Exchange → Fireblocks call: allow-list route (or method), status, retry number. */
  outboundRequests: Counter<'route' | 'status' | 'retry'>
  responseInvalid: Counter<'route'>
  /** Counts a catalogue error under the counter for its kind. */
  countError(spec: ErrorSpec): void
}

export function createMetrics(registry = new Registry()): GatewayMetrics {
  const errors = Object.fromEntries(
    Object.entries(ERROR_COUNTERS).map(([name, help]) => [name, new Counter({ name, help, labelNames: ['reason'] as const, registers: [registry] })]),
  ) as Record<ErrorCounter, Counter<'reason'>>
  return {
    registry,
    errors,
    reloads: new Counter({ name: 'nlgw_config_reloads_total', help: 'Config and mapping reloads, by result', labelNames: ['result'] as const, registers: [registry] }),
    outboundRequests: new Counter({ name: 'nlgw_outbound_requests_total', help: 'Signed Exchange to Fireblocks call attempts, by route, status and retry number', labelNames: ['route', 'status', 'retry'] as const, registers: [registry] }),
    idempotentReplays: new Counter({ name: 'nlgw_idempotent_replays_total', help: 'Retries answered with the stored response, by route', labelNames: ['route'] as const, registers: [registry] }),
    responseInvalid: new Counter({ name: 'nlgw_response_validation_failures_total', help: 'Mapped responses that break the OpenAPI schema, by route', labelNames: ['route'] as const, registers: [registry] }),
    configInfo: new Gauge({ name: 'nlgw_config_info', help: 'The loaded config and mappings, by digest', labelNames: ['hash'] as const, registers: [registry] }),
    countError: (spec) => errors[COUNTER_BY_KIND[spec.kind]].inc({ reason: spec.reason }),
  }
}
