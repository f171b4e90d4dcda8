import { LegacyError } from './errors.js'
import type { State } from './state/store.js'
import type { Account } from './state/types.js'

/** An account of this user. Other users' accounts are reported as missing, not forbidden, so ids do not leak. */
export function ownAccount(state: State, userId: string, accountId: string): Account {
  const account = state.accounts.get(accountId)
  if (!account || account.user_id !== userId) throw new LegacyError('ACCOUNT_NOT_FOUND', `no account ${accountId}`)
  return account
}

/** An account of this user that may move money. */
export function openAccount(state: State, userId: string, accountId: string): Account {
  const account = ownAccount(state, userId, accountId)
  if (account.status !== 'OPEN') throw new LegacyError('ACCOUNT_FROZEN', `account ${accountId} is frozen`)
  return account
}
