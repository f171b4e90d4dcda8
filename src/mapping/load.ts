import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseDuration } from '../config/duration.js'
import { ConfigError, suggest, type Problem } from '../config/problems.js'
import { compileSchema, schemaProblems } from '../config/validate.js'
import { SourceDocument } from '../config/yaml.js'
import type { MappingInputs } from '../config/load.js'
import type { OpenApiDocument } from '../openapi/document.js'
import { NETWORK_LINK_ROUTES } from '../network-link-routes.js'
import { RouteTable, routeKey, splitRouteKey, templateParams } from '../route-table.js'
import { Conformance } from './conformance.js'
import { compileRoute, type CompiledRoute, type RouteDefaults } from './route.js'
import { SpecCheck } from './static-check.js'
import { mappingFileSchema } from './schema.js'

/** Every route of every mapping file, compiled; swapped whole on reload. */
export interface MappingSet {
  /** `METHOD /path/{param}` → route. */
  routes: ReadonlyMap<string, CompiledRoute>
  /** Requests are matched here: the mapped routes and every Network Link route (the OpenAPI document's, or the built-in list). */
  table: RouteTable
  /** Digest of the files' contents. */
  hash: string
  files: string[]
}

export interface MappingOptions extends Omit<RouteDefaults, 'timeoutMs' | 'exactNumbers' | 'errors'> {
  defaultTimeoutMs: number
  /** The OpenAPI document: the routes that exist, and the schemas responses are checked against. Unchecked when absent. */
  openapi?: OpenApiDocument
}

const validateFile = compileSchema(mappingFileSchema)

/** Files named directly, and every .yaml / .yml file of a named directory (sorted). */
export function mappingFiles(entries: readonly string[], baseDir: string): string[] {
  return entries.flatMap((entry) => {
    const path = resolve(baseDir, entry)
    let isDirectory: boolean
    try {
      isDirectory = statSync(path).isDirectory()
    } catch {
      return [path] // reported as unreadable when loaded
    }
    return isDirectory
      ? readdirSync(path)
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
          .map((f) => join(path, f))
      : [path]
  })
}

export function loadMappings(files: readonly string[], options: MappingOptions): MappingSet {
  const problems: Problem[] = []
  const conformance = options.openapi ? new Conformance(options.openapi.components) : undefined
  const routes = new Map<string, CompiledRoute>()
  const hash = createHash('sha256')
  for (const file of files) {
    let doc: SourceDocument
    try {
      doc = SourceDocument.read(file)
      hash.update(readFileSync(file))
    } catch (err) {
      if (err instanceof ConfigError) {
        problems.push(...err.problems)
        continue
      }
      throw err
    }
    const invalid = schemaProblems(doc, validateFile)
    if (invalid.length > 0) {
      problems.push(...invalid)
      continue
    }
    const value = doc.value as { defaults?: Record<string, unknown>; routes: Array<Record<string, unknown>> }
    const defaults: RouteDefaults = {
      ...options,
      timeoutMs: parseDuration(value.defaults?.timeout as string | undefined, options.defaultTimeoutMs),
      exactNumbers: (value.defaults?.exactNumbers as boolean | undefined) ?? false,
      errors: (value.defaults?.errors as unknown[] | undefined) ?? [],
    }
    const specCheck = conformance ? new SpecCheck(doc, conformance) : undefined
    value.routes.forEach((raw, index) => {
      const { method, path } = splitRouteKey(raw.route as string)
      const key = routeKey(method, path)
      const operations = options.openapi?.operations
      if (operations && !operations.has(key)) {
        const hint = suggest(key, operations.keys())
        problems.push(doc.problem(['routes', index, 'route'], `${key} is not a Network Link route${hint ? ` (did you mean ${hint}?)` : ''}`))
        return
      }
      const duplicate = routes.get(key)
      if (duplicate) {
        problems.push(doc.problem(['routes', index, 'route'], `${key} is already mapped at ${duplicate.source}`))
        return
      }
      const names = templateParams(path)
      if (new Set(names).size !== names.length) problems.push(doc.problem(['routes', index, 'route'], 'a path parameter appears twice'))
      const route = compileRoute(doc, index, raw, defaults, problems)
      const operation = operations?.get(key)
      if (operation) specCheck?.route(index, raw, route, operation)
      routes.set(key, route)
    })
    if (specCheck) problems.push(...specCheck.problems())
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return { routes, table: new RouteTable(new Set([...routes.keys(), ...(options.openapi?.operations.keys() ?? NETWORK_LINK_ROUTES)])), hash: hash.digest('hex'), files: [...files] }
}

/** The config's mappings, checked against the OpenAPI document when there is one: the routes must exist, statuses default to the spec's. */
export function compileMappings(config: MappingInputs, openapi?: OpenApiDocument): MappingSet {
  return loadMappings(config.mappings, {
    defaultTimeoutMs: config.upstream.timeoutMs,
    subjectHeader: config.upstream.subjectHeader,
    successStatus: (method, path) => openapi?.operations.get(`${method} ${path}`)?.successStatus ?? 200,
    ...(openapi ? { openapi } : {}),
  })
}
