/**
 * The JSON-RPC exchange's seeded state, fixed ids (restart = reset). Amounts are
 * BigInt minor units: an ether balance in wei is beyond what a double holds.
 */
export interface Account {
  number: string
  name: string
  state: 'OPEN' | 'SUSPENDED'
  /** The account it is a sub-account of; null for a main account. */
  parent: string | null
}

export interface Holding {
  /** `fiat` (an ISO 4217 code) or `coin` (a symbol on a chain). */
  kind: 'fiat' | 'coin'
  code: string
  chain: string | null
  /** Minor units: cents, satoshis, wei. */
  available: bigint
  held: bigint
  decimals: number
}

export interface Client {
  name: string
  accounts: Account[]
  holdings: Map<string, Holding[]>
}

export const CLIENTS = {
  northwind: 'c-7f3a1e',
  harbour: 'c-9b21d4',
} as const

const fiat = (code: string, available: bigint, held = 0n): Holding => ({ kind: 'fiat', code, chain: null, available, held, decimals: 2 })
const coin = (code: string, chain: string, decimals: number, available: bigint, held = 0n): Holding => ({ kind: 'coin', code, chain, available, held, decimals })

export function seed(): Map<string, Client> {
  const northwind: Account[] = [
    { number: 'ACC-1001', name: 'Northwind main', state: 'OPEN', parent: null },
    { number: 'ACC-1002', name: 'Northwind OTC desk', state: 'OPEN', parent: 'ACC-1001' },
    { number: 'ACC-1003', name: 'Northwind treasury', state: 'OPEN', parent: 'ACC-1001' },
    { number: 'ACC-1004', name: 'Northwind market making', state: 'OPEN', parent: 'ACC-1001' },
    { number: 'ACC-1005', name: 'Northwind fees', state: 'OPEN', parent: 'ACC-1001' },
    { number: 'ACC-1006', name: 'Northwind settlements', state: 'OPEN', parent: 'ACC-1001' },
    { number: 'ACC-1007', name: 'Northwind dormant', state: 'SUSPENDED', parent: 'ACC-1001' },
  ]
  return new Map([
    [
      CLIENTS.northwind,
      {
        name: 'Northwind Capital',
        accounts: northwind,
        holdings: new Map(
          northwind.map((account, i) => [
            account.number,
            i === 0
              ? [
                  fiat('USD', 1_500_075n, 20_000n),
                  coin('BTC', 'BITCOIN', 8, 150_000_000n),
                  // 1234.567890123456789012 ETH: more digits than a double keeps.
                  coin('ETH', 'ETHEREUM', 18, 1_234_567_890_123_456_789_012n, 5_000_000_000_000_000n),
                ]
              : [fiat('USD', BigInt(i) * 10_000n)],
          ]),
        ),
      },
    ],
    [CLIENTS.harbour, { name: 'Harbour Trading', accounts: [{ number: 'ACC-2001', name: 'Harbour main', state: 'OPEN', parent: null }], holdings: new Map([['ACC-2001', [fiat('EUR', 99n)]]]) }],
  ])
}
