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
  t.match(load('fragments:\n  bad: &bad $nothing.here\nroutes:\n  - route: GET /accounts\n    response: *bad\n').problems, [/^\/m\.yaml:2:13: fragments\.bad: unknown reference \$nothing; .* \(used at line 5\)$/])
})

t.test('a mistake inside a fragment is reported once, at the fragment, with the uses that show it', async (t) => {
  const routes = ['GET /accounts', 'GET /capabilities', 'GET /capabilities/assets', 'GET /accounts/{accountId}', 'GET /accounts/{accountId}/balances']
  const file = (rules: string, asset: string) => `fragments:
  asset: &asset
    code: ${asset}
  holder: &holder
    name: $holder.name
  rules: &rules
    - ${rules}
routes:
${routes.map((route) => `  - route: ${route}\n    upstream: { get: /x }\n    errors: *rules\n    response: { $let: { asset: $body.a }, in: *asset }`).join('\n')}
  - route: GET /accounts/{accountId}/rate
    upstream: { get: /x }
    response: { a: { $let: { holder: $body.h }, in: *holder }, b: *holder }   # $holder is unbound in the second use only
`
  t.same(load(file('{ when: { status: 404 }, errorTyp: not-found }', '$asset.currency')).problems, [
    '/m.yaml:7:32: fragments.rules[0].errorTyp: unknown key "errorTyp" (did you mean "errorType"?) (used at lines 11, 15, 19 and 2 more)',
  ], 'one slip, one problem: not also "missing required key errorType"')
  t.same(load(file('{ when: { status: 404 }, errorType: not-found }', '{ $uper: $asset.currency }')).problems.map((p) => p.replace(/; here you can use [^(]*/, ' ')), [
    '/m.yaml:3:13: fragments.asset.code.$uper: unknown operator $uper (did you mean $upper?) (used at lines 12, 16, 20 and 2 more)',
    '/m.yaml:5:11: fragments.holder.name: unknown reference $holder (used at line 31)',
  ])
})

t.test('alias mistakes are problems of the file, never a crash', async (t) => {
  t.same(load('fragments:\n  asset: &asset 1\nroutes:\n  - route: GET /accounts\n    response: *aset\n').problems, ['/m.yaml:5:15: *aset refers to no anchor: define &aset before it in this file (did you mean *asset?)'])
  const laughs = ['l0: &l0 [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 6 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(', ')}]`)]
  t.match(load(`fragments:\n${laughs.map((l) => `  ${l}`).join('\n')}\nroutes: []\n`).problems, [/resource exhaustion attack \(aliases are limited to 10000 expansions per anchor\)/])
})
