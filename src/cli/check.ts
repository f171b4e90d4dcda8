import { compileMappings, type MappingSet } from '../mapping/load.js'
import { ConfigError, formatProblem, type Problem } from '../config/problems.js'
import { loadConfig, mappingInputs, type GatewayConfig } from '../config/load.js'
import { loadOpenApi, type OpenApiDocument } from '../openapi/document.js'
import { parse, UsageError } from './usage.js'

/**
 * `nlgw check [CONFIG]`: validates a gateway config, its credential files and
 * its mappings exactly as start-up does, printing `file:line:col` problems.
 * Every part is checked in the same run: a config problem does not hide the
 * mapping problems behind it.
 */
export function checkCommand(args: string[]): number {
  const { positionals } = parse(args, {})
  const file = positionals[0] ?? process.env.NLGW_CONFIG
  if (!file) throw new UsageError('name the config file, or set NLGW_CONFIG')
  const problems: Problem[] = []
  const attempt = <T>(step: () => T): T | undefined => {
    try {
      return step()
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      problems.push(...err.problems)
      return undefined
    }
  }
  const config: GatewayConfig | undefined = attempt(() => loadConfig(file))
  const inputs = config ?? mappingInputs(file)
  const openapi: OpenApiDocument | undefined = inputs?.openapi ? attempt(() => loadOpenApi((inputs.openapi as { file: string }).file)) : undefined
  const mappings: MappingSet | undefined = inputs ? attempt(() => compileMappings(inputs, openapi)) : undefined
  if (problems.length > 0 || !config || !mappings) {
    const unique = new ConfigError(problems).problems
    for (const problem of unique) process.stdout.write(`${formatProblem(problem)}\n`)
    process.stdout.write(`${unique.length} problem(s)\n`)
    return 1
  }
  process.stdout.write(
    `${file}: ok — ${mappings.routes.size} mapped route(s) in ${mappings.files.length} file(s), ${config.auth.credentials.size} credential(s) from files, ` +
      `${config.redis ? 'Redis' : 'in-memory'} stores, ` +
      (openapi ? `checked against ${openapi.operations.size} Network Link operations\n` : 'no OpenAPI document (routes not checked against the spec)\n'),
  )
  return 0
}
