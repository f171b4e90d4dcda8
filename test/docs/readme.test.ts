import t from 'tap'
import { readFileSync } from 'node:fs'
import { configSchema } from '../../src/config/schema.js'
import { errorTable } from '../../src/cli/errors.js'
import { OPERATOR_NAMES } from '../../src/mapping/template.js'
import { repoPath } from '../helpers/paths.js'

const readme = readFileSync(repoPath('README.md'), 'utf8')

t.test('the README error table is the catalogue (nlgw errors)', async (t) => {
  t.ok(readme.includes(errorTable()), 'regenerate it with: node dist/src/cli/nlgw.js errors')
})

t.test('every config key is documented', async (t) => {
  const keys: string[] = []
  const walk = (schema: { properties?: Record<string, unknown> }, path: string[]) => {
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      const next = [...path, key]
      if (next.length === 2) keys.push(next.join('.'))
      if (next.length < 2) walk(child as { properties?: Record<string, unknown> }, next)
    }
  }
  walk(configSchema, [])
  t.ok(keys.length > 20)
  for (const key of keys) t.ok(readme.includes(`\`${key}\``), `\`${key}\` is in the README`)
})

t.test('every mapping operator is documented in docs/mapping.md', async (t) => {
  const reference = readFileSync(repoPath('docs/mapping.md'), 'utf8')
  for (const operator of OPERATOR_NAMES) t.ok(reference.includes(`\`${operator}\``), operator)
})

t.test('every key of a mapping file is documented in docs/mapping.md', async (t) => {
  const reference = readFileSync(repoPath('docs/mapping.md'), 'utf8')
  const { callSchema, mappingFileSchema } = await import('../../src/mapping/schema.js')
  const keysOf = (schema: unknown) => Object.keys((schema as { properties: object }).properties)
  const route = (mappingFileSchema.properties.routes as { items: unknown }).items
  const pages = (callSchema.properties as Record<string, unknown>).pages
  for (const key of [...keysOf(mappingFileSchema), ...keysOf(route), ...keysOf(callSchema), ...keysOf(pages)]) {
    t.ok(reference.includes(`\`${key}\``) || new RegExp(`\\b${key}: `).test(reference), key)
  }
})

t.test('every gateway metric is documented', async (t) => {
  const { createMetrics } = await import('../../src/metrics.js')
  const metrics = createMetrics({ apiKeyLabel: true, processMetrics: false })
  const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name)
  t.ok(names.length >= 16)
  for (const name of names) t.ok(readme.includes(`\`${name}\``), name)
})
