import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError, formatProblem } from '../../src/config/problems.js'
import { loadMappings } from '../../src/mapping/load.js'
import { tempDir } from '../helpers/temp.js'

const dir = tempDir('nlgw-fragments-')
const options = { defaultTimeoutMs: 1000, subjectHeader: 'x-user', successStatus: () => 200 }

function load(text: string) {
  const file = join(dir, 'm.yaml')
  writeFileSync(file, text)
  try {
    return { set: loadMappings([file], options), problems: [] as string[] }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    return { problems: err.problems.map((p) => formatProblem(p).replace(dir, '')) }
  }
}

t.test('fragments hold anchors that routes use many times; they are compiled where they are used', async (t) => {
  const uses = Array.from({ length: 60 }, (_, i) => `      f${i}: { $let: { asset: $body.a${i} }, in: *asset }`).join('\n')
  const { set, problems } = load(`fragments:
  code: &code { $upper: $asset.currency }
  asset: &asset { code: *code, name: *code, again: *code }
routes:
  - route: GET /accounts/{accountId}/balances
    upstream: { get: /w }
    response:
${uses}
`)
  t.same(problems, [], 'far more than the yaml library default of 100 alias expansions')
  t.equal(set?.routes.size, 1)
  t.same(load('fragments:\n  bad: &bad $nothing.here\nroutes: []\n').problems, [], 'an unused fragment is not compiled')
  t.match(load('fragments:\n  bad: &bad $nothing.here\nroutes:\n  - route: GET /accounts\n    response: *bad\n').problems, [/m\.yaml:5:15: routes\[0\]\.response: unknown reference \$nothing/])
})

t.test('alias mistakes are problems of the file, never a crash', async (t) => {
  t.match(load('routes:\n  - route: GET /accounts\n    response: *nowhere\n').problems, [/m\.yaml: Unresolved alias \(the anchor must be set before the alias\): nowhere$/])
  const laughs = ['l0: &l0 [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 6 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(', ')}]`)]
  t.match(load(`fragments:\n${laughs.map((l) => `  ${l}`).join('\n')}\nroutes: []\n`).problems, [/resource exhaustion attack \(aliases are limited to 10000 expansions per anchor\)/])
})
