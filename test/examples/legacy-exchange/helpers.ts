import { buildLegacyExchange } from '../../../examples/legacy-exchange/app.js'
import { ACCOUNTS, USERS } from '../../../examples/legacy-exchange/state/seed.js'

export { ACCOUNTS, USERS }

export interface Reply {
  status: number
  // Responses are JSON of many shapes; tests navigate them freely.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any
}

export interface CallOptions {
  body?: unknown
  /** Caller for x-legacy-user; null sends none. Defaults to Acme. */
  user?: string | null
  operator?: boolean
  headers?: Record<string, string>
}

export interface Exchange {
  clock: { now: number }
  call(method: string, path: string, options?: CallOptions): Promise<Reply>
}

/** A fresh exchange on a loopback port, with a clock the test moves. Starts after all seeded records. */
export async function startExchange(t: { teardown(fn: () => unknown): void }): Promise<Exchange> {
  const clock = { now: Date.parse('2024-06-01T12:00:00Z') }
  const app = buildLegacyExchange({ now: () => clock.now })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  return {
    clock,
    async call(method, path, { body, user = USERS.acme, operator = false, headers = {} } = {}) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(user === null ? {} : { 'x-legacy-user': user }),
          ...(operator ? { 'x-legacy-operator': 'ops@test' } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      })
      const text = await response.text()
      return { status: response.status, body: text ? JSON.parse(text) : undefined }
    },
  }
}

/** Path under an account of Acme (or of `user`). */
export const acct = (accountId: string, suffix = '', user: string = USERS.acme): string => `/internal/v1/users/${user}/accounts/${accountId}${suffix}`

export const backoffice = (suffix: string): string => `/internal/v1/backoffice${suffix}`
