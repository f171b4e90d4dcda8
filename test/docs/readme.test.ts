import t from 'tap'
import { readFileSync } from 'node:fs'
import { configSchema } from '../../src/config/schema.js'
import { ERRORS } from '../../src/errors.js'
import { OPERATOR_NAMES } from '../../src/mapping/template.js'
import { COUNTER_BY_KIND } from '../../src/metrics.js'
import { repoPath } from '../helpers/paths.js'

const readme = readFileSync(repoPath('README.md'), 'utf8')

t.test('the README error table is the catalogue', async (t) => {
  const section = readme.slice(readme.indexOf('## Errors'))
  const rows = section
    .split('\n')
    .filter((line) => /^\| [^-]/.test(line) && !line.startsWith('| error |'))
    .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim().replace(/`/g, '')))
    .slice(0, Object.keys(ERRORS).length)
  const expected = Object.values(ERRORS).map((e) => [
    e.message,
    String(e.status),
    e.errorType,
    'propertyName' in e ? e.propertyName : '',
    'requestPart' in e ? e.requestPart : '',
    `${COUNTER_BY_KIND[e.kind]}{reason="${e.reason}"}`,
  ])
  t.same(rows, expected)
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
