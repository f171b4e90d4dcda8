import type { Credential } from '../credentials/credential.js'
import { ERRORS, GatewayError } from '../errors.js'
import type { RequestTarget } from './target.js'

/**
 * A credential's account scope (`accounts` in its record), decided on the
 * canonical target. Every Network Link route that names an account starts
 * with /accounts/{accountId}, mapped or passed through, so the id is the
 * second decoded segment; `GET /accounts` lists accounts and is filtered.
 */
export function accountIdOf(target: RequestTarget): string | undefined {
  return target.segments[0] === 'accounts' ? target.segments[1] : undefined
}

/**
 * Request bodies that name another of the customer's own accounts, to debit or
 * to credit (the spec's TakeFrom, InternalTransferAddress, CollateralAddress):
 * those accounts are in the scope check as much as the one in the path. A peer
 * account (another customer's, `withdrawals/peeraccount`) is not the
 * credential's to scope.
 */
export const BODY_ACCOUNTS: Readonly<Record<string, ReadonlyArray<readonly string[]>>> = {
  'POST /accounts/{accountId}/ramps': [['from', 'takeFrom']],
  'POST /accounts/{accountId}/transfers/withdrawals/subaccount': [['destination', 'accountId']],
  'POST /accounts/{accountId}/collateral/{collateralId}/addresses': [['recoveryAccountId']],
}

/** Throws the same 404 as the path check when the body names an account outside the credential's scope. */
export function checkBodyAccounts(routeKey: string, body: unknown, credential: Pick<Credential, 'accounts'>): void {
  const accounts = credential.accounts
  const fields = BODY_ACCOUNTS[routeKey]
  if (accounts === undefined || fields === undefined) return
  for (const path of fields) {
    const value = path.reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), body)
    if (value !== undefined && !accounts.has(String(value))) throw new GatewayError(ERRORS.accountNotPermitted)
  }
}

/**
 * Answers that name accounts, cut to the credential's scope: the account
 * list keeps only the accounts in scope, and no account shown names a parent
 * outside it (`GET /accounts/{accountId}` of a sub-account in scope would
 * otherwise reveal its parent's id).
 */
const SCOPED_ANSWERS: Readonly<Record<string, (body: unknown, accounts: ReadonlySet<string>) => unknown>> = {
  'GET /accounts': (body, accounts) => {
    const list = (body as { accounts?: unknown } | undefined)?.accounts
    if (!Array.isArray(list)) return body
    const visible = list.filter((item) => accounts.has(String((item as { id?: unknown } | null)?.id)))
    return { ...(body as object), accounts: visible.map((item) => withoutHiddenParent(item, accounts)) }
  },
  'GET /accounts/{accountId}': withoutHiddenParent,
}

/** Whether answers of `routeKey` are cut to a scoped credential's accounts (then read whole, not streamed). */
export function scopesAnswer(routeKey: string, credential: Pick<Credential, 'accounts'>): boolean {
  return credential.accounts !== undefined && SCOPED_ANSWERS[routeKey] !== undefined
}

/** A 2xx answer of `routeKey` without the accounts outside the credential's scope, nor their ids; anything else as it is. */
export function withinScope(routeKey: string, body: unknown, credential: Pick<Credential, 'accounts'>): unknown {
  const cut = SCOPED_ANSWERS[routeKey]
  return cut && credential.accounts !== undefined ? cut(body, credential.accounts) : body
}

function withoutHiddenParent(account: unknown, accounts: ReadonlySet<string>): unknown {
  if (account === null || typeof account !== 'object') return account
  const parent = (account as { parentId?: unknown }).parentId
  if (parent === undefined || accounts.has(String(parent))) return account
  const { parentId: _hidden, ...rest } = account as Record<string, unknown>
  return rest
}
