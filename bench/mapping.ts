/**
 * The mapping micro-benchmark: a 20-item legacy balance list turned into
 * Network Link balances by a compiled mapping, next to hand-written JS doing
 * the same work (same exact-decimal helper) in the same run.
 */
import { SourceDocument } from '../src/config/yaml.js'
import { toDecimalString } from '../src/mapping/decimal.js'
import { compileTemplate, type Scope } from '../src/mapping/template.js'
import type { Problem } from '../src/config/problems.js'
import { opsPerSecond, type Row } from './measure.js'

const TEMPLATE = `
balances:
  $each: $body.wallets
  id: $item.wallet_id
  asset:
    $switch: $item.kind
    crypto: { cryptocurrencySymbol: { $upper: $item.currency } }
    fiat: { nationalCurrencyCode: $item.currency }
  availableAmount: { $decimal: $item.available_minor, scale: $item.decimals }
  lockedAmount: { $decimal: $item.hold_minor, scale: $item.decimals }
  status: { $switch: $item.state, 1: active, 2: frozen, $default: closed }
`

interface Wallet {
  wallet_id: string
  kind: string
  currency: string
  available_minor: number
  hold_minor: string
  decimals: number
  state: number
}

function handWritten(body: { wallets: Wallet[] }) {
  const balances = []
  for (const w of body.wallets) {
    balances.push({
      id: w.wallet_id,
      asset: w.kind === 'crypto' ? { cryptocurrencySymbol: w.currency.toUpperCase() } : { nationalCurrencyCode: w.currency },
      availableAmount: toDecimalString(w.available_minor, w.decimals),
      lockedAmount: toDecimalString(w.hold_minor, w.decimals),
      status: w.state === 1 ? 'active' : w.state === 2 ? 'frozen' : 'closed',
    })
  }
  return { balances }
}

export function mappingBench(ms: number): Row[] {
  const doc = SourceDocument.parse('bench.yaml', TEMPLATE)
  const problems: Problem[] = []
  const mapped = compileTemplate(doc.value, [], { doc, problems, roots: new Set(['body', 'item']), params: new Set() })
  if (problems.length) throw new Error(JSON.stringify(problems))
  const body = {
    wallets: Array.from({ length: 20 }, (_, i): Wallet => ({
      wallet_id: `w-${i}`,
      kind: i % 3 ? 'crypto' : 'fiat',
      currency: i % 3 ? 'btc' : 'USD',
      available_minor: 150_000_000 + i * 1_234_567,
      hold_minor: String(i * 1000),
      decimals: i % 3 ? 8 : 2,
      state: (i % 3) + 1,
    })),
  }
  const scope: Scope = { body }
  if (JSON.stringify(mapped(scope)) !== JSON.stringify(handWritten(body))) throw new Error('mapping and hand-written JS disagree')
  const template = opsPerSecond(() => mapped(scope), ms)
  const hand = opsPerSecond(() => handWritten(body), ms)
  const us = (ops: number) => Math.round((1e6 / ops) * 10) / 10
  return [
    { transform: 'compiled YAML mapping', 'µs per 20-item list': us(template), 'vs hand-written': hand / template },
    { transform: 'hand-written JS', 'µs per 20-item list': us(hand), 'vs hand-written': 1 },
  ]
}
