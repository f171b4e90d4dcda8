import t from 'tap'
import { formatProblem, type Problem } from '../../src/config/problems.js'
import { SourceDocument } from '../../src/config/yaml.js'
import { RawNumber, stringifyJson } from '../../src/mapping/json.js'
import { compileTemplate, MappingError, type Scope } from '../../src/mapping/template.js'

const ROOTS = new Set(['params', 'query', 'body', 'subject', 'item'])

function compile(yaml: string, params: string[] = ['accountId']) {
  const doc = SourceDocument.parse('t.yaml', yaml)
  const problems: Problem[] = []
  const evaluate = compileTemplate(doc.value, [], { doc, problems, roots: ROOTS, params: new Set(params) })
  return { evaluate, problems: problems.map(formatProblem) }
}

function run(yaml: string, scope: Scope): unknown {
  const { evaluate, problems } = compile(yaml)
  if (problems.length) throw new Error(problems.join('\n'))
  return evaluate(scope)
}

t.test('references, constants, string templates and absent values', async (t) => {
  const scope = { params: { accountId: 'A1' }, body: { user: { first: 'Ada', last: 'Lovelace', tags: ['x', 'y'] } }, subject: 'u-1' }
  t.same(run('id: $params.accountId\nname: "{$body.user.first} {$body.user.last}"\ntag: $body.user.tags[1]\nconst: 42\nnothing: $body.missing\nliteral: $$dollar', scope), {
    id: 'A1',
    name: 'Ada Lovelace',
    tag: 'y',
    const: 42,
    literal: '$dollar',
  })
  t.same(run('greeting: "hello {$body.nobody}"', scope), {}, 'a template with an absent part is absent')
  t.same(run('- $subject\n- $body.missing\n- 3', scope), ['u-1', 3], 'absent list items are dropped')
  const nulls = { body: { nickname: null, tags: [null, 'a'], extra: { kept: 1, gone: null } } }
  t.same(run('name: $body.nickname\ntags: { $each: $body.tags, $value: $item }\nmerged: { $merge: [$body.extra] }', nulls), { tags: ['a'], merged: { kept: 1 } }, "a backend's null is absent: Network Link has no nullable fields")
})

t.test('$each with $where, $as, $value and nesting; $find', async (t) => {
  const scope = { body: { accounts: [{ id: 'a', kind: 1, wallets: [{ c: 'BTC' }, { c: 'ETH' }] }, { id: 'b', kind: 2, wallets: [] }] } }
  t.same(
    run(
      `$each: $body.accounts
$as: account
$where: { $eq: [$account.kind, 1] }
id: $account.id
position: $index
currencies: { $each: $account.wallets, $value: $item.c }`,
      scope,
    ),
    [{ id: 'a', position: 0, currencies: ['BTC', 'ETH'] }],
  )
  t.same(run('{ $find: $body.accounts, $where: { $eq: [$item.id, b] } }', scope), scope.body.accounts[1])
  t.equal(run('{ $find: $body.accounts, $where: { $eq: [$item.id, zz] } }', scope), undefined)
  t.same(run('{ $each: $body.missing, id: $item.id }', scope), [], 'an absent list maps to an empty one')
})

t.test('an index or key read from another reference joins two lists', async (t) => {
  const scope = { body: { accounts: [{ id: 'a', ccy: 'USD' }, { id: 'b', ccy: 'EUR' }, { id: 'c', ccy: 'GBP' }], balances: [{ n: 1 }, { n: 2 }], rates: { USD: '1', EUR: '1.1' } } }
  t.same(
    run('$each: $body.accounts\n$as: account\nid: $account.id\nn: $body.balances[$index].n\nrate: $body.rates[$account.ccy]\nlabel: "{$account.id}:{$body.balances[$index].n}"', scope),
    [
      { id: 'a', n: 1, rate: '1', label: 'a:1' },
      { id: 'b', n: 2, rate: '1.1', label: 'b:2' },
      { id: 'c' },
    ],
    'a missing index or key is absent',
  )
  const hostile = { body: { map: { a: 1 }, keys: ['__proto__', 'toString', 'constructor', 'a'] } }
  t.same(run('{ $each: $body.keys, $value: { $coalesce: ["$body.map[$item]", none] } }', hostile), ['none', 'none', 'none', 1], 'only own data properties, never the prototype')
  t.same(compile('x: $body.list[$nothing]').problems.map((p) => p.replace(/; here.*/, '')), ['t.yaml:1:4: x: unknown reference $nothing'], 'the index reference is checked like any other')
})

t.test('$switch as an enum table, with numbers as keys and a default', async (t) => {
  const yaml = '{ $switch: $body.state, 10: Pending, 20: Completed, REJECTED: Failed, $default: Unknown }'
  t.equal(run(yaml, { body: { state: 10 } }), 'Pending')
  t.equal(run(yaml, { body: { state: '20' } }), 'Completed')
  t.equal(run(yaml, { body: { state: 'REJECTED' } }), 'Failed')
  t.equal(run(yaml, { body: { state: 99 } }), 'Unknown')
  t.throws(() => run('{ $switch: $body.state, A: a }', { body: { state: 'B' } }), MappingError, 'no case and no default is an error, not a guess')
})

t.test('conditionals, comparisons and defaults', async (t) => {
  const yaml = `kind: { $if: { $and: [{ $exists: $body.iban }, { $not: { $eq: [$body.iban, ""] } }] }, then: iban, else: other }
member: { $in: [$body.c, [USD, EUR]] }
name: { $coalesce: [$body.nickname, $body.name, "Main"] }
upper: { $upper: $body.c }
merged: { $merge: [$body.extra, { fixed: true }] }`
  t.same(run(yaml, { body: { iban: 'DE89', c: 'usd', name: 'N', extra: { a: 1, __proto__: { polluted: true } } } }), {
    kind: 'iban',
    member: false,
    name: 'N',
    upper: 'USD',
    merged: { a: 1, fixed: true },
  })
  t.same(run(yaml, { body: { c: 'EUR' } }), { kind: 'other', member: true, name: 'Main', upper: 'EUR', merged: { fixed: true } })
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution')
})

t.test('$let binds names so one fragment (a YAML anchor) serves values from different places', async (t) => {
  const yaml = `- { $let: { asset: $body.debit }, in: &asset { $switch: $asset.type, FIAT: { code: $asset.currency }, COIN: { symbol: $asset.currency } } }
- { $let: { asset: $body.send }, in: *asset }
- { $each: $body.list, $as: asset, $value: [{ $let: { asset: $body.debit }, in: *asset }, *asset] }
- { $let: { asset: $body.nothing }, in: { wrapped: *asset } }
- { $let: { a: $body.debit.currency, b: $body.send.currency }, in: "{$a}/{$b}" }
- { $let: { a: $body.debit.currency, b: $body.nothing }, in: "{$a}" }`
  const scope = { body: { debit: { type: 'FIAT', currency: 'USD' }, send: { type: 'COIN', currency: 'BTC' }, list: [{ type: 'COIN', currency: 'ETH' }], nothing: null } }
  t.same(
    run(yaml, scope),
    [{ code: 'USD' }, { symbol: 'BTC' }, [[{ code: 'USD' }, { symbol: 'ETH' }]], 'USD/BTC'],
    'each use binds its own value, an inner binding ends with its $let, and $let is absent when a bound value is',
  )
})

t.test('$let mistakes', async (t) => {
  t.same(compile('{ $let: { body: $body.a }, in: $body }').problems, ['t.yaml:1:11: $let.body: $body is already a reference here; choose another name'])
  t.same(compile('{ $let: [$body.a], in: 1 }').problems, ['t.yaml:1:9: $let: $let takes names and their values, e.g. $let: { asset: $item.debit }, in: template'])
  t.same(compile('{ $let: { a: $body.a } }').problems, ['t.yaml:1:1: $let needs in: the template that reads the names'])
  t.same(compile('{ $let: { a-b: $body.a }, in: 1 }').problems, ['t.yaml:1:11: $let.a-b: "a-b" cannot be a name: use letters, digits and _'])
  t.same(compile('{ $let: { a: $body.a }, in: $b.x }').problems.map((p) => p.replace(/; here.*/, '')), ['t.yaml:1:29: in: unknown reference $b (did you mean $a?)'])
  t.same(compile('{ $let: { a: $body.a }, inn: 1 }').problems, [
    't.yaml:1:25: inn: $let does not take "inn" (did you mean "in"?)',
    't.yaml:1:1: $let needs in: the template that reads the names',
  ])
  t.same(compile('{ $each: $body.l, $as: x, $value: { $let: { x: $x.inner }, in: $x.v } }').problems, [], 'an inner $let may rebind a $let/$as name')
  t.same(run('{ $each: $body.l, $as: x, $value: { $let: { x: $x.inner }, in: $x.v } }', { body: { l: [{ inner: { v: 1 } }, { inner: { v: 2 } }] } }), [1, 2])
})

t.test('money: $decimal, $minor and $number are exact', async (t) => {
  const scope = { body: { minor: '123456789012345678901234567890', cents: 150, amount: '0.000000000000000001', big: '1000000000000', float: 0.1 + 0.2 } }
  t.same(run('a: { $decimal: $body.minor, scale: 18 }\nb: { $decimal: $body.cents, scale: 2 }', scope), { a: '123456789012.34567890123456789', b: '1.5' })
  const built = run('wei: { $minor: $body.amount, scale: 18 }\nbig: { $minor: $body.big, scale: 18 }\nn: { $number: $body.amount }\ns: { $minor: $body.big, scale: 2, as: string }', scope) as Record<string, unknown>
  t.type(built.wei, RawNumber)
  t.equal(stringifyJson(built), '{"wei":1,"big":1000000000000000000000000000000,"n":0.000000000000000001,"s":"100000000000000"}')
  t.throws(() => run('{ $decimal: $body.float }', scope), /more than 15 significant digits/)
  t.throws(() => run('{ $minor: $body.amount, scale: 8 }', scope), /more than 8 decimal places/)
})

t.test('$date between epoch and ISO', async (t) => {
  t.same(run('a: { $date: $body.ms }\nb: { $date: $body.s, from: s }\nc: { $date: $body.iso, to: ms }', { body: { ms: 1691606624184, s: 1691606624, iso: '2023-08-09T18:43:44.184Z' } }), {
    a: '2023-08-09T18:43:44.184Z',
    b: '2023-08-09T18:43:44.000Z',
    c: 1691606624184,
  })
  t.throws(() => run('{ $date: $body.x }', { body: { x: 'not a date' } }), MappingError)
})

t.test('mistakes are compile errors with place and suggestion', async (t) => {
  t.same(compile('id: $parms.accountId').problems, ['t.yaml:1:5: id: unknown reference $parms (did you mean $params?); here you can use $params, $query, $body, $subject, $item'])
  t.same(compile('id: $params.acountId').problems, ['t.yaml:1:5: id: the route has no path parameter "acountId" (did you mean "accountId"?); it has accountId'])
  t.same(compile('x: { $swich: $body.a }').problems, ['t.yaml:1:6: x.$swich: unknown operator $swich (did you mean $switch?)'])
  t.same(compile('x: { $decimal: $body.a, scael: 2 }').problems, ['t.yaml:1:25: x.scael: $decimal does not take "scael" (did you mean "scale"?)'])
  t.same(compile('x: { $upper: $body.a, $lower: $body.b }').problems, ['t.yaml:1:23: x.$lower: one operator per object: $upper and $lower cannot be combined here'])
  t.same(compile('x: "$body.a b"').problems, ['t.yaml:1:4: x: "$body.a b" is not a reference: write $root.field.sub, $root.list[0] or $root.list[$index] (a literal starting with $ is written $$…)'])
  t.same(compile('x: $body.constructor').problems, ['t.yaml:1:4: x: "$body.constructor" reads a reserved property'])
  t.same(compile('{ $minor: $body.a }').problems, ['t.yaml:1:1: $minor needs scale (the number of decimal places of a minor unit)'])
  t.same(compile('{ $find: $body.a }').problems, ['t.yaml:1:1: $find needs $where'])
  t.same(compile('x: { $each: $body.a, id: $itm.id }').problems.map((p) => p.replace(/; here.*/, '')), ['t.yaml:1:26: x.id: unknown reference $itm (did you mean $item?)'])
})
