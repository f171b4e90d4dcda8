import t from 'tap'
import { LegacyError } from '../../../examples/legacy-exchange/errors.js'
import { afterFee, convertMinor, divide, formatMinor, minorAsNumber, ratio, ratioAsNumber, toMinor } from '../../../examples/legacy-exchange/money.js'

t.test('decimal strings to minor units and back, exactly', async (t) => {
  t.equal(toMinor('12.340', 2, 'amount'), 1234n)
  t.equal(toMinor('0.00000001', 8, 'amount'), 1n)
  t.equal(toMinor('7', 6, 'amount'), 7_000_000n)
  t.equal(formatMinor(1234n, 2), '12.34')
  t.equal(formatMinor(1_000_000n, 6), '1', 'no trailing zeros')
  t.equal(formatMinor(5n, 8), '0.00000005', 'no exponent')
  t.equal(formatMinor(-25_000_000n, 8), '-0.25')
  t.equal(formatMinor(0n, 2), '0')
})

t.test('amounts the ledger cannot hold exactly are refused, not rounded', async (t) => {
  const code = (fn: () => unknown) => {
    try {
      fn()
    } catch (error) {
      return error instanceof LegacyError ? error.code : 'other'
    }
    return 'none'
  }
  t.equal(code(() => toMinor('0.001', 2, 'amount')), 'AMOUNT_PRECISION')
  t.equal(code(() => toMinor('1.', 2, 'amount')), 'INVALID_FIELD')
  t.equal(code(() => toMinor('-1', 2, 'amount')), 'INVALID_FIELD')
  t.equal(code(() => toMinor('99999999999', 8, 'amount')), 'AMOUNT_TOO_LARGE')
})

t.test('conversions round in the stated direction', async (t) => {
  const rate = divide(ratio('1'), ratio('65000'))
  // 100 USD at 65000 USD/BTC = 0.00153846153… BTC
  t.equal(convertMinor(10_000n, 2, 8, rate, 'down'), 153_846n)
  t.equal(convertMinor(10_000n, 2, 8, rate, 'up'), 153_847n)
  t.equal(convertMinor(100_000_000n, 8, 2, { num: 65_000n, den: 1n }, 'down'), 6_500_000n, 'exact results are not nudged')
  t.equal(convertMinor(100_000_000n, 8, 2, { num: 65_000n, den: 1n }, 'up'), 6_500_000n)
  t.same(afterFee(25), { num: 9_975n, den: 10_000n })
})

t.test('JSON numbers are written only when exact', async (t) => {
  t.equal(minorAsNumber(107_360n, 2), 1073.6)
  t.equal(minorAsNumber(1_542n, 8), 0.00001542)
  t.throws(() => minorAsNumber(1_234_567_890_123_456n, 8))
  t.equal(ratioAsNumber(divide(ratio('1.08'), ratio('1.27')), 8), 0.8503937, 'half-up to 8 places')
  t.equal(ratioAsNumber(ratio('65000'), 8), 65000)
})
