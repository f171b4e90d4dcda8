import type { Account, Client, Holding } from './state.js'

/**
 * The exchange's three methods. Errors are JSON-RPC error objects, answered in
 * an HTTP 200 like every other answer (JSON-RPC 2.0 over HTTP).
 */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message)
  }
}

/** JSON-RPC 2.0's own codes, and the exchange's (-32000 to -32099, the range the spec leaves to servers). */
export const CODES = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  unauthenticated: -32001,
  accountNotFound: -32004,
} as const

/** At most this many accounts per `accounts.list` call: clients page with offset and limit. */
export const MAX_LIMIT = 5

type Params = Record<string, unknown>

function integer(params: Params, name: string, min: number, max: number, fallback: number): number {
  const value = params[name] ?? fallback
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) throw new RpcError(CODES.invalidParams, `${name} must be an integer from ${min} to ${max}`, { param: name })
  return value as number
}

function account(client: Client, params: Params): Account {
  if (typeof params.account !== 'string') throw new RpcError(CODES.invalidParams, 'account must be an account number', { param: 'account' })
  const found = client.accounts.find((a) => a.number === params.account)
  if (!found) throw new RpcError(CODES.accountNotFound, `no account ${params.account}`)
  return found
}

const view = (a: Account) => ({ number: a.number, name: a.name, state: a.state, parent: a.parent })
const holding = (h: Holding) => ({ kind: h.kind, code: h.code, chain: h.chain, available: h.available, held: h.held, decimals: h.decimals })

export const METHODS: Record<string, (client: Client, params: Params) => unknown> = {
  /** `{ offset, limit }` → `{ items, total }`, in account-number order. */
  'accounts.list'(client, params) {
    const offset = integer(params, 'offset', 0, Number.MAX_SAFE_INTEGER, 0)
    const limit = integer(params, 'limit', 1, MAX_LIMIT, MAX_LIMIT)
    return { items: client.accounts.slice(offset, offset + limit).map(view), total: client.accounts.length }
  },
  /** `{ account }` → `{ account }`. */
  'accounts.get'(client, params) {
    return { account: view(account(client, params)) }
  },
  /** `{ account, currency? }` → `{ account, holdings }`: one account's holdings, minor units as JSON integers. */
  'accounts.balances'(client, params) {
    const found = account(client, params)
    if (params.currency !== undefined && typeof params.currency !== 'string') throw new RpcError(CODES.invalidParams, 'currency must be a currency code', { param: 'currency' })
    const holdings = (client.holdings.get(found.number) ?? []).filter((h) => params.currency === undefined || h.code === params.currency)
    return { account: found.number, holdings: holdings.map(holding) }
  },
}
