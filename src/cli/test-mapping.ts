import { readFileSync } from 'node:fs'
import { ConfigError, formatProblem } from '../config/problems.js'
import { loadConfig } from '../config/load.js'
import { GatewayError } from '../errors.js'
import { loadOpenApi } from '../openapi/document.js'
import { executeRoute } from '../mapping/execute.js'
import { compileMappings, loadMappings, type MappingSet } from '../mapping/load.js'
import { routeKey } from '../route-table.js'
import type { UpstreamClient, UpstreamRequest } from '../upstream.js'
import { parse, required, UsageError } from './usage.js'

/**
 * `nlgw test-mapping`: runs one mapped route offline. The upstream answers
 * come from files, so a mapping can be written and checked without the
 * backend. Prints the upstream requests the mapping makes and the Network
 * Link response it produces.
 */
export async function testMappingCommand(args: string[]): Promise<number> {
  const { values } = parse(args, {
    config: { type: 'string' },
    mappings: { type: 'string', multiple: true },
    route: { type: 'string' },
    'upstream-response': { type: 'string', multiple: true },
    'upstream-status': { type: 'string' },
    params: { type: 'string' },
    query: { type: 'string' },
    body: { type: 'string' },
    subject: { type: 'string' },
  })
  const [method, path] = required(values, 'route').trim().split(/\s+/) as [string, string | undefined]
  if (!path) throw new UsageError('--route is "METHOD /path/{param}", e.g. "GET /accounts/{accountId}/balances"')
  let set: MappingSet
  let subjectHeader = 'x-nlgw-subject'
  try {
    const files = values.mappings as unknown as string[] | undefined
    if (files?.length) set = loadMappings(files, { defaultTimeoutMs: 10_000, subjectHeader, successStatus: () => 200 })
    else {
      const file = (values.config as string | undefined) ?? process.env.NLGW_CONFIG
      if (!file) throw new UsageError('give --mappings FILE… or --config (or NLGW_CONFIG)')
      const config = loadConfig(file)
      subjectHeader = config.upstream.subjectHeader
      set = compileMappings(config, config.openapi ? loadOpenApi(config.openapi.file) : undefined)
    }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    for (const problem of err.problems) process.stderr.write(`${formatProblem(problem)}\n`)
    return 1
  }
  const route = set.routes.get(routeKey(method, path))
  if (!route) throw new UsageError(`${routeKey(method, path)} is not mapped; mapped routes: ${[...set.routes.keys()].join(', ')}`)

  // --upstream-response FILE for one call, or name=FILE per named call; consumed in call order.
  const responses = ((values['upstream-response'] as unknown as string[] | undefined) ?? []).map((entry) => entry.replace(/^\w+=/, ''))
  const status = Number(values['upstream-status'] ?? 200)
  const calls: UpstreamRequest[] = []
  const upstream: UpstreamClient = {
    async request(request) {
      const file = responses[calls.length]
      calls.push(request)
      if (file === undefined) throw new UsageError(`the route makes call #${calls.length}; give one --upstream-response per call`)
      return { status, headers: {}, body: readFileSync(file) }
    },
  }
  const json = (flag: string) => (values[flag] === undefined ? undefined : (JSON.parse(String(values[flag])) as Record<string, unknown>))
  let result: { status: number; body: unknown }
  try {
    result = await executeRoute(
      route,
      {
        params: (json('params') ?? {}) as Record<string, string>,
        query: json('query') ?? {},
        body: values.body === undefined ? undefined : JSON.parse(readFileSync(String(values.body), 'utf8')),
        headers: {},
        subject: (values.subject as string | undefined) ?? 'subject',
        credential: 'test-mapping',
        requestId: 'test-mapping',
      },
      { upstream, subjectHeader, onMappingError: (_r, err) => process.stderr.write(`mapping error: ${err.message}\n`) },
    )
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err
    result = { status: err.spec.status, body: err.body }
  }
  const shown = calls.map((c) => ({ method: c.method, target: c.path, headers: c.headers, ...(c.body ? { body: JSON.parse(String(c.body)) as unknown } : {}) }))
  process.stdout.write(JSON.stringify({ upstream: shown, response: result }, null, 2) + '\n')
  return 0
}
