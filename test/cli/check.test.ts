import t from 'tap'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoPath } from '../helpers/paths.js'
import { specFile, specMissing } from '../helpers/spec.js'
import { tempDir } from '../helpers/temp.js'

const nlgw = (args: string[], env: Record<string, string> = {}) => {
  const res = spawnSync(process.execPath, [repoPath('dist/src/cli/nlgw.js'), ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } })
  return { code: res.status, stdout: res.stdout, stderr: res.stderr }
}

function project(mappings: string): string {
  const dir = tempDir('nlgw-check-')
  writeFileSync(join(dir, 'gateway.yaml'), `auth:
  scheme: { algorithm: hmac, hash: sha256, preEncoding: plain, postEncoding: base64 }
  credentials: [{ file: credentials.yaml }]
upstream: { url: "http://127.0.0.1:8010" }
mappings: [mappings.yaml]
`)
  writeFileSync(join(dir, 'credentials.yaml'), 'credentials:\n  - { apiKey: k, secret: { env: SECRET }, subject: u }\n')
  writeFileSync(join(dir, 'mappings.yaml'), mappings)
  return dir
}

t.test('a valid project passes', async (t) => {
  const dir = project('routes:\n  - route: GET /capabilities\n    response: { version: "1" }\n')
  const res = nlgw(['check', join(dir, 'gateway.yaml')], { SECRET: 's' })
  t.equal(res.code, 0, res.stdout + res.stderr)
  t.match(res.stdout, /ok — 1 mapped route\(s\) in 1 file\(s\), 1 credential\(s\) from files, in-memory stores/)
})

t.test('every mistake is printed as file:line:col, and the exit code is 1', async (t) => {
  const dir = project(`routes:
  - route: GET /accounts/{accountId}/balances
    upstream: { get: "/internal/users/{acountId}/wallets", qurey: { a: 1 } }
    response: { x: { $decimal: $body.a, scael: 2 } }
  - route: GET /accounts/{accountId}/balances
    response: {}
  - route: FETCH /accounts
    response: {}
`)
  const res = nlgw(['check'], { SECRET: 's', NLGW_CONFIG: join(dir, 'gateway.yaml') })
  t.equal(res.code, 1)
  const file = join(dir, 'mappings.yaml')
  t.same(res.stdout.trim().split('\n'), [
    `${file}:7:12: routes[2].route: must be "METHOD /path/{param}", each parameter a whole segment, e.g. "GET /accounts/{accountId}/balances"`,
    '1 problem(s)',
  ], 'structure first')
  writeFileSync(file, `routes:
  - route: GET /accounts/{accountId}/balances
    upstream: { get: "/internal/users/{acountId}/wallets", qurey: { a: 1 } }
    response: { x: { $decimal: $body.a, scael: 2 } }
  - route: GET /accounts/{accountId}/balances
    response: {}
`)
  const again = nlgw(['check', join(dir, 'gateway.yaml')], { SECRET: 's' })
  t.equal(again.code, 1)
  t.same(again.stdout.trim().split('\n'), [
    `${file}:3:60: routes[0].upstream.qurey: unknown key "qurey" (did you mean "query"?)`,
    `${file}:3:22: routes[0].upstream.get: {acountId} is not a path parameter of the route (did you mean {accountId}?); write {$body.field} for other values`,
    `${file}:4:41: routes[0].response.x.scael: $decimal does not take "scael" (did you mean "scale"?)`,
    `${file}:5:12: routes[1].route: GET /accounts/{accountId}/balances is already mapped at ${file}:2`,
    '4 problem(s)',
  ])
})

t.test('config and mapping problems are reported in the same run', async (t) => {
  const dir = project('routes:\n  - route: GET /capabilities\n    response: { version: $parms.v }\n')
  writeFileSync(join(dir, 'gateway.yaml'), `server: { prot: 80 }
auth:
  scheme: { algorithm: hmac, hash: sha256, preEncoding: plain, postEncoding: base64 }
  credentials: [{ file: credentials.yaml }]
upstream: { url: "http://127.0.0.1:8010", timeout: soon }
mappings: [mappings.yaml]
`)
  const res = nlgw(['check', join(dir, 'gateway.yaml')], { SECRET: 's' })
  t.equal(res.code, 1)
  t.same(res.stdout.replaceAll(dir + '/', '').trim().split('\n'), [
    'gateway.yaml:1:11: server.prot: unknown key "prot" (did you mean "port"?)',
    'gateway.yaml:5:52: upstream.timeout: must be a duration such as 300ms, 5s, 5m, 72h, 3d, or a number of milliseconds',
    'mappings.yaml:3:26: routes[0].response.version: unknown reference $parms (did you mean $params?); here you can use $params, $query, $body, $headers, $subject, $credential, $request, $requestId, $now',
    '3 problem(s)',
  ])
})

t.test('with the OpenAPI document, responses are checked against the spec before anything runs', { skip: specMissing }, async (t) => {
  const dir = project(`routes:
  - route: GET /accounts
    upstream: { get: /accounts }
    paginate: acounts
    errors:
      - { when: { status: 4xx }, errorType: bad-request }
      - { when: { status: 404 }, errorType: not-found }
    response:
      accounts:
        $each: $body.list
        id: $item.id
        title: $item.name
        status: { $switch: $item.state, OPEN: active, CLOSED: inactiv }
`)
  const res = nlgw(['check', join(dir, 'gateway.yaml')], { SECRET: 's', NLGW_OPENAPI: specFile })
  t.equal(res.code, 1)
  t.same(res.stdout.replaceAll(dir + '/', '').trim().split('\n'), [
    'mappings.yaml:7:17: routes[0].errors[1].when: this rule can never answer: the rule before it at routes[0].errors[0] (line 6) holds whenever it does; put the narrower rule first',
    'mappings.yaml:4:15: routes[0].paginate: the response this route builds has no "acounts" (did you mean "accounts"?): nothing to paginate',
    'mappings.yaml:13:63: routes[0].response.accounts.status.CLOSED: "inactiv" is not allowed as an AccountStatus (did you mean "inactive"?); expected one of active, inactive',
    '3 problem(s)',
  ])
})

t.test('a missing secret and a missing config are reported clearly', async (t) => {
  const dir = project('routes: []\n')
  const res = nlgw(['check', join(dir, 'gateway.yaml')])
  t.equal(res.code, 1)
  t.match(res.stdout, /credentials\.yaml:2:26: credentials\[0\]\.secret: environment variable SECRET is not set/)
  t.equal(nlgw(['check']).code, 2)
})

t.test('test-mapping runs a route offline from recorded answers', async (t) => {
  const dir = project(`routes:
  - route: GET /accounts/{accountId}/balances
    upstream: { get: "/internal/users/{subject}/accounts/{accountId}/wallets", query: { ccy: $query.cryptocurrencySymbol } }
    response:
      balances: { $each: $body.data, id: $item.id, availableAmount: { $decimal: $item.minor, scale: 2 } }
`)
  writeFileSync(join(dir, 'answer.json'), '{"data":[{"id":"w1","minor":1050}]}')
  const res = nlgw(['test-mapping', '--mappings', join(dir, 'mappings.yaml'), '--route', 'GET /accounts/{accountId}/balances', '--upstream-response', join(dir, 'answer.json'), '--params', '{"accountId":"a b"}', '--query', '{"cryptocurrencySymbol":"BTC"}', '--subject', 'u1'])
  t.equal(res.code, 0, res.stderr)
  const out = JSON.parse(res.stdout) as { upstream: Array<{ target: string }>; response: unknown }
  t.equal(out.upstream[0]?.target, '/internal/users/u1/accounts/a%20b/wallets?ccy=BTC')
  t.same(out.response, { status: 200, body: { balances: [{ id: 'w1', availableAmount: '10.5' }] } })
  const unknown = nlgw(['test-mapping', '--mappings', join(dir, 'mappings.yaml'), '--route', 'GET /accounts'])
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, /GET \/accounts is not mapped; mapped routes: GET \/accounts\/\{accountId\}\/balances/)
})
