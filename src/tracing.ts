import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace'
import { GatewayError } from './errors.js'

/**
 * OpenTelemetry tracing, off unless `tracing` is configured. Spans are
 * parented explicitly (a `Trace` is handed down with the request) rather than
 * through an async context manager: nothing is patched, and with tracing off
 * every helper here is one branch on `undefined`. Spans go to an OTLP/HTTP
 * collector in batches; the provider is this gateway's own, never the global
 * one, so two gateways in one process do not share it.
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
  /** Exports the spans still queued, then stops. */
  shutdown(): Promise<void>
}

/** Where children of a span start: the tracer, and a context holding the parent span. */
export interface Trace {
  tracer: Tracer
  context: Context
}

export function createTracing(config: TracingConfig): Tracing {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: config.endpoint, headers: config.headers }) })],
  })
  return { tracer: provider.getTracer('network-link-gateway'), shutdown: () => provider.shutdown() }
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
  const span = parent.tracer.startSpan(name, { kind, ...(attributes ? { attributes } : {}) }, parent.context)
  return {
    trace: { tracer: parent.tracer, context: trace.setSpan(parent.context, span) },
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
  return tracing && { tracer: tracing.tracer, context: ROOT_CONTEXT }
}

const propagator = new W3CTraceContextPropagator()

/** The trace a request's `traceparent` continues (the exchange's own backend calling out), or a new one. */
export function continuedTrace(tracing: Tracing | undefined, headers: Record<string, string | string[] | undefined>): Trace | undefined {
  return tracing && { tracer: tracing.tracer, context: propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter) }
}

/** Sets `traceparent` (and `tracestate`) for a call made inside `current`'s span, replacing any a client sent. */
export function injectTraceparent(current: Trace | undefined, headers: Record<string, string>): void {
  if (!current) return
  delete headers.traceparent
  delete headers.tracestate
  propagator.inject(current.context, headers, defaultTextMapSetter)
}

/** The trace id for the access log. */
export function traceIdOf(current: Trace | undefined): string | undefined {
  return current && trace.getSpanContext(current.context)?.traceId
}

export { SpanKind }
