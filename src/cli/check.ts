import { compileMappings } from '../mapping/load.js'
import { ConfigError, formatProblem } from '../config/problems.js'
import { loadConfig } from '../config/load.js'
import { loadOpenApi } from '../openapi/document.js'
import { parse, UsageError } from './usage.js'

/**
 * `nlgw check [CONFIG]`: validates a gateway config, its credential files and
 * its mappings exactly as start-up does, printing `file:line:col` problems.
 */
export function checkCommand(args: string[]): number {
  const { positionals } = parse(args, {})
  const file = positionals[0] ?? process.env.NLGW_CONFIG
  if (!file) throw new UsageError('name the config file, or set NLGW_CONFIG')
  try {
    const config = loadConfig(file)
    const openapi = config.openapi ? loadOpenApi(config.openapi.file) : undefined
    const mappings = compileMappings(config, openapi)
    process.stdout.write(
      `${file}: ok — ${mappings.routes.size} mapped route(s) in ${mappings.files.length} file(s), ${config.auth.credentials.size} credential(s) from files, ` +
        `${config.redis ? 'Redis' : 'in-memory'} stores, ` +
        (openapi ? `checked against ${openapi.operations.size} Network Link operations\n` : 'no OpenAPI document (routes not checked against the spec)\n'),
    )
    return 0
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    for (const problem of err.problems) process.stdout.write(`${formatProblem(problem)}\n`)
    process.stdout.write(`${err.problems.length} problem(s)\n`)
    return 1
  }
}
