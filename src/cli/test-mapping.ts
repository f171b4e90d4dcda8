import { readFileSync } from 'node:fs'
import { ConfigError, formatProblem } from '../config/problems.js'
import { loadConfig } from '../config/load.js'
import { ERRORS, GatewayError } from '../errors.js'
import { MemoryIdempotencyStore } from '../idempotency/memory.js'
import { compileMappings, loadMappings, type MappingSet } from '../mapping/load.js'
import { answerMapped, type Log } from '../mapping/pipeline.js'
import { createMetrics } from '../metrics.js'
import { loadOpenApi, type OpenApiDocument } from '../openapi/document.js'
import { compileValidators } from '../openapi/validators.js'
import { parseTarget } from '../request/target.js'
import { routeKey } from '../route-table.js'
import { UpstreamError, type UpstreamClient, type UpstreamRequest, type UpstreamResponse } from '../upstream.js'
import { parse, required, UsageError } from './usage.js'

export const TEST_MAPPING_USAGE = `nlgw test-mapping --route "GET /accounts/{accountId}/balances" [--upstream-response [CALL=]FILE]…
           [--config FILE | --mappings FILE… [--openapi FILE]] [--params JSON] [--query JSON] [--body FILE]
           [--subject ID] [--upstream-status [CALL=]CODE]… [--response-validation off|report|enforce]

  Runs one mapped route offline, through the gateway's own pipeline (request
  validation, error rules, pagination, response validation), with the backend's
  answers read from files, and prints the calls it makes and the answer.

  --upstream-response CALL=FILE  the answer to the call named CALL; give it again
                                 for each further answer (pages, per-item calls)
  --upstream-response FILE       the answer to the next call without a named file
  --upstream-status [CALL=]CODE  the status of those answers (default 200)
  --openapi FILE                 with --mappings: the OpenAPI document (--config: the config's)
  --response-validation MODE     default: the config's; with --mappings and --openapi, enforce

  exit 0: the mapping answered (a success, or an error its rules or status made)
  exit 1: the gateway answered an error of its own (the mapping failed, the request is invalid…),
          or the mappings have problems
  exit 2: usage error`

/**
 * `nlgw test-mapping`: one mapped route, offline. The backend is a set of
 * recorded answers, served through the same UpstreamClient seam the gateway's
 * pool fills, and the request goes through the same pipeline as a live one.
 */
export async function testMappingCommand(args: string[]): Promise<number> {
  const { values } = parse(args, {
    config: { type: 'string' },
    mappings: { type: 'string', multiple: true },
    openapi: { type: 'string' },
    route: { type: 'string' },
    'upstream-response': { type: 'string', multiple: true },
    'upstream-status': { type: 'string', multiple: true },
    'response-validation': { type: 'string' },
    params: { type: 'string' },
    query: { type: 'string' },
    body: { type: 'string' },
    subject: { type: 'string' },
  })
  const [method, path] = required(values, 'route').trim().split(/\s+/) as [string, string | undefined]
  if (!path) throw new UsageError('--route is "METHOD /path/{param}", e.g. "GET /accounts/{accountId}/balances"')
  const list = (name: string) => (values[name] as unknown as string[] | undefined) ?? []

  let set: MappingSet
  let openapi: OpenApiDocument | undefined
  let subjectHeader = 'x-nlgw-subject'
  let validation = values['response-validation'] as string | undefined
  try {
    if (list('mappings').length) {
      openapi = values.openapi === undefined ? undefined : loadOpenApi(String(values.openapi))
      set = loadMappings(list('mappings'), { defaultTimeoutMs: 10_000, subjectHeader, successStatus: (m, p) => openapi?.operations.get(`${m} ${p}`)?.successStatus ?? 200, ...(openapi ? { openapi } : {}) })
      validation ??= openapi ? 'enforce' : 'off'
    } else {
      const file = (values.config as string | undefined) ?? process.env.NLGW_CONFIG
      if (!file) throw new UsageError('give --mappings FILE… or --config (or NLGW_CONFIG)')
      const config = loadConfig(file)
      subjectHeader = config.upstream.subjectHeader
      openapi = config.openapi ? loadOpenApi(config.openapi.file) : undefined
      set = compileMappings(config, openapi)
      validation ??= config.openapi?.responseValidation ?? 'off'
    }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    for (const problem of err.problems) process.stderr.write(`${formatProblem(problem)}\n`)
    return 1
  }
  if (!['off', 'report', 'enforce'].includes(validation)) throw new UsageError('--response-validation is off, report or enforce')
  const key = routeKey(method, path)
  const route = set.routes.get(key)
  if (!route) throw new UsageError(`${key} is not mapped; mapped routes: ${[...set.routes.keys()].join(', ')}`)

  const json = (flag: string) => (values[flag] === undefined ? {} : (JSON.parse(String(values[flag])) as Record<string, unknown>))
  const params = Object.fromEntries(Object.entries(json('params')).map(([name, value]) => [name, String(value)]))
  const query = new URLSearchParams(Object.entries(json('query')).map(([name, value]): [string, string] => [name, String(value)])).toString()
  const filled = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(params[name] ?? name))
  const upstream = new RecordedUpstream(list('upstream-response'), list('upstream-status'))
  // A refused request is thrown, and answered by the listener's error handler: here, as it would answer.
  const answer = await answerMapped(
    route,
    {
      method: route.method,
      target: parseTarget(query ? `${filled}?${query}` : filled, ''),
      params,
      body: values.body === undefined ? undefined : readFileSync(String(values.body)),
      headers: {},
      credential: { id: 'test-mapping', subject: (values.subject as string | undefined) ?? 'subject' },
      requestId: 'test-mapping',
      log: stderrLog,
    },
    {
      validators: openapi ? compileValidators(openapi, [key]) : new Map(),
      responseValidation: validation as 'off' | 'report' | 'enforce',
      idempotency: { store: new MemoryIdempotencyStore({ ttlMs: 60_000, lockMs: 10_000, maxEntries: 10 }), waitMs: 10_000 },
      metrics: createMetrics({ processMetrics: false }),
      upstream,
      subjectHeader,
    },
  ).catch((err: unknown) => {
    if (!(err instanceof GatewayError)) throw err
    return { status: err.spec.status, body: JSON.stringify(err.body), refusal: err.spec }
  })
  if (upstream.missing) throw new UsageError(upstream.missing)
  const shown = upstream.calls.map((c) => ({ ...(c.call ? { call: c.call } : {}), method: c.method, target: c.path, headers: c.headers, ...(c.body ? { body: JSON.parse(String(c.body)) as unknown } : {}) }))
  const body = answer.body === '' ? undefined : (JSON.parse(answer.body) as unknown)
  process.stdout.write(JSON.stringify({ upstream: shown, response: { status: answer.status, ...(body === undefined ? {} : { body }) } }, null, 2) + '\n')
  // An error the mapping's rules made is the mapping answering; any other error is the gateway's own.
  return answer.refusal && answer.refusal.code !== ERRORS.backendError.code ? 1 : 0
}

/** The backend, answered from files: each call takes the next file given with its name, else the next one given without. */
class RecordedUpstream implements UpstreamClient {
  readonly calls: UpstreamRequest[] = []
  /** A call no file answers: a usage error, reported once the pipeline has answered (as a backend that is down). */
  missing?: string
  private readonly files = new Map<string | undefined, string[]>()
  private readonly statuses = new Map<string | undefined, number>()

  constructor(responses: string[], statuses: string[]) {
    for (const entry of responses) {
      const [call, file] = named(entry)
      this.files.set(call, [...(this.files.get(call) ?? []), file])
    }
    for (const entry of statuses) {
      const [call, code] = named(entry)
      if (!/^[1-5]\d\d$/.test(code)) throw new UsageError(`--upstream-status ${entry}: not an HTTP status`)
      this.statuses.set(call, Number(code))
    }
  }

  async request(request: UpstreamRequest): Promise<UpstreamResponse> {
    this.calls.push(request)
    const own = this.files.get(request.call)
    const file = own?.length ? own.shift() : this.files.get(undefined)?.shift()
    if (file === undefined) {
      this.missing ??= `no answer left for call #${this.calls.length}${request.call ? ` (${request.call})` : ''}, ${request.method} ${request.path}: give one --upstream-response per backend answer`
      throw new UpstreamError('unavailable', this.missing)
    }
    const status = this.statuses.get(request.call) ?? this.statuses.get(undefined) ?? 200
    return { status, headers: {}, body: readFileSync(file) }
  }
}

/** `name=value` (a call's name is a word), or a bare value. */
function named(entry: string): [string | undefined, string] {
  const m = /^(\w+)=(.*)$/.exec(entry)
  return m ? [m[1], m[2] as string] : [undefined, entry]
}

/** The pipeline's log, for a person at a terminal: one line per event on stderr. */
const stderrLog: Log = {
  error(fields, message) {
    const shown = Object.entries(fields).map(([name, value]) => `${name}=${value instanceof Error ? value.message : typeof value === 'string' ? value : JSON.stringify(value)}`)
    process.stderr.write(`${message}: ${shown.join(' ')}\n`)
  },
}
