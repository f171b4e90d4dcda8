import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace'
import type { Tracing, TracingConfig } from './tracing.js'

/** The gateway's own tracer provider: sampled by ratio (a parent's decision followed), exported in batches over OTLP/HTTP. */
export function createTracing(config: TracingConfig): Tracing {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: config.endpoint, headers: config.headers }) })],
  })
  return { tracer: provider.getTracer('network-link-gateway'), propagator: new W3CTraceContextPropagator(), shutdown: () => provider.shutdown() }
}
