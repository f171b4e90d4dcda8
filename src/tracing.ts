import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type TextMapPropagator, type Tracer } from '@opentelemetry/api'
import { GatewayError } from './errors.js'

/**
 * OpenTelemetry tracing, off unless `tracing` is configured. Spans are
 * parented explicitly (a `Trace` is handed down with the request) rather than
 * through an async context manager: nothing is patched, and with tracing off
 * every helper here is one branch on `undefined`. Spans go to an OTLP/HTTP
 * collector in batches; the provider is this gateway's own, never the global
 * one, so two gateways in one process do not share it. Only the API is
 * loaded here: the SDK and the exporter (about 9 MB of memory) are loaded by
 * `loadTracing`, when tracing is configured.
 */
export interface TracingConfig {
  /** The OTLP/HTTP traces URL, e.g. http://otel-collector:4318/v1/traces */
  endpoint: string
  /** The share of requests recorded, 0 to 1 (a sampled parent from the backend is always followed). */
  sampleRatio: number
  serviceName: string
  headers: Record<string, string>
}

export interface Tracing {
  tracer: Tracer
  /** W3C trace context: `traceparent` and `tracestate`. */
  propagator: TextMapPropagator
  /** Exports the spans still queued, then stops. */
  shutdown(): Promise<void>
}

/** Where children of a span start: the tracing, and a context holding the parent span. */
export interface Trace {
  tracing: Tracing
  context: Context
}

/** The SDK and the OTLP exporter, loaded only now. */
export async function loadTracing(config: TracingConfig): Promise<Tracing> {
  const { createTracing } = await import('./tracing-sdk.js')
  return createTracing(config)
}

/** A span that ends when its owner says so (across hooks or callbacks). */
export interface OpenSpan {
  /** For the span's own children. */
  trace: Trace
  span: Span
  /** Ends the span, marked as failed when given an error. */
  end(error?: unknown): void
}

/** A new span under `parent` (a root span when `parent` holds none); undefined when tracing is off. */
export function startSpan(parent: Trace | undefined, name: string, kind: SpanKind = SpanKind.INTERNAL, attributes?: Attributes): OpenSpan | undefined {
  if (!parent) return undefined
  const span = parent.tracing.tracer.startSpan(name, { kind, ...(attributes ? { attributes } : {}) }, parent.context)
  return {
    trace: { tracing: parent.tracing, context: trace.setSpan(parent.context, span) },
    span,
    end(error) {
      if (error !== undefined) markFailed(span, error)
      span.end()
    },
  }
}

/** Runs `work` in a child span of `parent`, or plainly when tracing is off (not even an extra promise then). */
export function inSpan<T>(parent: Trace | undefined, name: string, work: (trace: Trace | undefined) => Promise<T>, kind?: SpanKind, attributes?: Attributes): Promise<T> {
  return parent ? traced(startSpan(parent, name, kind, attributes) as OpenSpan, work) : work(undefined)
}

async function traced<T>(open: OpenSpan, work: (trace: Trace) => Promise<T>): Promise<T> {
  try {
    const result = await work(open.trace)
    open.end()
    return result
  } catch (err) {
    open.end(err)
    throw err
  }
}

/** Failed, with the catalogue reason (or the error's name) as `error.type`. */
export function markFailed(span: Span, error: unknown): void {
  const type = error instanceof GatewayError ? error.spec.reason : error instanceof Error ? error.name : 'error'
  span.setAttribute('error.type', type)
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) })
}

/** A trace of its own for a request from outside: the caller's trace flags must not decide what the exchange records. */
export function rootTrace(tracing: Tracing | undefined): Trace | undefined {
  return tracing && { tracing, context: ROOT_CONTEXT }
}

/** The trace a request's `traceparent` continues (the exchange's own backend calling out), or a new one. */
export function continuedTrace(tracing: Tracing | undefined, headers: Record<string, string | string[] | undefined>): Trace | undefined {
  return tracing && { tracing, context: tracing.propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter) }
}

/** Sets `traceparent` (and `tracestate`) for a call made inside `current`'s span, replacing any a client sent. */
export function injectTraceparent(current: Trace | undefined, headers: Record<string, string>): void {
  if (!current) return
  delete headers.traceparent
  delete headers.tracestate
  current.tracing.propagator.inject(current.context, headers, defaultTextMapSetter)
}

/** The trace id for the access log. */
export function traceIdOf(current: Trace | undefined): string | undefined {
  return current && trace.getSpanContext(current.context)?.traceId
}

export { SpanKind }
