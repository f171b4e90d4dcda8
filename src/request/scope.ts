import type { Credential } from '../credentials/credential.js'
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

/** The route that lists accounts: its answer is cut down to the credential's scope. */
export const ACCOUNT_LIST_ROUTE = 'GET /accounts'

/** `{ accounts: [...] }` without the accounts outside the credential's scope; anything else as it is. */
export function withinScope(body: unknown, credential: Pick<Credential, 'accounts'>): unknown {
  const accounts = credential.accounts
  const list = (body as { accounts?: unknown } | undefined)?.accounts
  if (accounts === undefined || !Array.isArray(list)) return body
  return { ...(body as object), accounts: list.filter((item) => accounts.has(String((item as { id?: unknown } | null)?.id))) }
}
