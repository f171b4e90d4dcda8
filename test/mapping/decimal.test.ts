import t from 'tap'
import { spawnSync } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { DecimalError, toDecimalString, toMinorUnits } from '../../src/mapping/decimal.js'
import { ExactNumber, RawNumber, parseJson, stringifyJson } from '../../src/mapping/json.js'

/** Python's decimal module as the independent reference. */
function pythonDecimals(cases: Array<[string, number]>): string[] {
  const code = `import sys, json
from decimal import Decimal, getcontext
getcontext().prec = 200
def plain(d):
    s = format(d.normalize(), 'f')
    return '0' if s in ('0', '-0') else s
print(json.dumps([plain(Decimal(v).scaleb(-s)) for v, s in json.load(sys.stdin)]))`
  const res = spawnSync('python3', ['-c', code], { input: JSON.stringify(cases) })
  if (res.status !== 0) throw new Error(res.stderr.toString())
  return JSON.parse(res.stdout.toString()) as string[]
}

t.test('minor units → decimal strings agree with Python decimal on random and edge values', async (t) => {
  const cases: Array<[string, number]> = [
    ['0', 0], ['0', 18], ['-0', 2], ['1', 18], ['1', 0], ['-1', 2], ['10', 1], ['100', 2], ['123456789', 8],
    ['1' + '0'.repeat(30), 0], ['1' + '0'.repeat(30), 18], ['-' + '9'.repeat(40), 18], ['000123', 2],
  ]
  for (let i = 0; i < 300; i++) {
    const digits = String(randomInt(1, 2 ** 47)) + (i % 3 === 0 ? String(randomInt(0, 2 ** 47)) : '')
    cases.push([(i % 5 === 0 ? '-' : '') + digits, randomInt(0, 30)])
  }
  const expected = pythonDecimals(cases)
  cases.forEach(([value, scale], i) => t.equal(toDecimalString(value, scale), expected[i], `${value} scale ${scale}`))
})

t.test('JSON numbers and numeric strings become plain decimal strings', async (t) => {
  const table: Array<[unknown, string]> = [
    [0, '0'], [-0, '0'], [1e-18, '0.000000000000000001'], ['1e30', '1000000000000000000000000000000'], [-12.5, '-12.5'],
    [0.1, '0.1'], ['1.10', '1.1'], ['+1.5e3', '1500'], ['-0.000', '0'], ['.5', '0.5'],
    [123456789012345, '123456789012345'], [new ExactNumber('123456789012345678901234567890'), '123456789012345678901234567890'], [10n ** 30n, '1' + '0'.repeat(30)],
  ]
  for (const [input, expected] of table) t.equal(toDecimalString(input), expected, String(input))
  t.equal(toDecimalString('1.1'), '1.1')
  t.equal(toDecimalString(150, 2), '1.5', '150 cents')
})

t.test('values a double may have rounded are refused, never guessed', async (t) => {
  t.throws(() => toDecimalString(2 ** 53), DecimalError)
  t.throws(() => toDecimalString(1e30), /beyond 2\^53/, '1e30 and 1000…0001 are the same double')
  t.throws(() => toDecimalString(Number('12345678901234567890')), /beyond 2\^53/)
  t.throws(() => toDecimalString(1.1 + 2.2), /more than 15 significant digits/)
  t.throws(() => toDecimalString(0.1 + 0.2), DecimalError)
  t.throws(() => toDecimalString(NaN), /not a finite number/)
  t.throws(() => toDecimalString('12abc'), /not a number/)
  t.throws(() => toDecimalString(''), /not a number/)
  t.throws(() => toDecimalString(undefined), /a missing value is not a number/)
  t.throws(() => toDecimalString({}), DecimalError)
})

t.test('decimal strings → minor units, refusing lost precision', async (t) => {
  t.equal(toMinorUnits('1.5', 8), 150_000_000n)
  t.equal(toMinorUnits('0.000000000000000001', 18), 1n)
  t.equal(toMinorUnits('-12.34', 2), -1234n)
  t.equal(toMinorUnits('1000000000000', 18), 10n ** 30n)
  t.equal(toMinorUnits('0', 6), 0n)
  t.equal(toMinorUnits('1.2300', 2), 123n, 'trailing zeros are not extra precision')
  t.throws(() => toMinorUnits('1.234', 2), /more than 2 decimal places/)
  t.throws(() => toMinorUnits('0.0000001', 6), /more than 6 decimal places/)
})

t.test('exact JSON in and out', async (t) => {
  const text = '{"big":123456789012345678901234567890,"small":12,"frac":1.25,"e":1e30,"odd":1000000000000000000000000000001,"s":"x"}'
  const fast = parseJson(text, false) as Record<string, unknown>
  t.equal(fast.big, 1.2345678901234568e29, 'JSON.parse rounds')
  t.equal(fast.e, fast.odd, 'JSON.parse cannot tell 1e30 from 10^30 + 1')
  const exact = parseJson(text, true) as Record<string, unknown>
  t.type(exact.big, ExactNumber)
  t.equal(toDecimalString(exact.big, 18), '123456789012.34567890123456789')
  t.equal(toDecimalString(exact.e), '1' + '0'.repeat(30))
  t.equal(toDecimalString(exact.odd), '1' + '0'.repeat(29) + '1')
  t.equal(toDecimalString(exact.frac), '1.25')
  t.equal(exact.small, 12)
  t.equal(JSON.stringify(exact.frac), '1.25', 'exact numbers still serialise as numbers')
  t.equal(stringifyJson({ a: 10n ** 30n, b: new RawNumber('0.000000000000000001'), c: 'x' }), '{"a":1000000000000000000000000000000,"b":0.000000000000000001,"c":"x"}')
  t.throws(() => new RawNumber('1,"admin":true'), TypeError)
  const sneaky = stringifyJson({ s: 'nlgw-raw-00000000-0000-0000-0000-000000000000:1', n: 1n })
  t.equal(JSON.parse(sneaky).s, 'nlgw-raw-00000000-0000-0000-0000-000000000000:1', 'strings that look like markers stay strings')
})
