import t from 'tap'
import { checkBodyAccounts, scopesAnswer, withinScope } from '../../src/request/scope.js'

const scoped = { accounts: new Set(['acc-1', 'acc-3']) }

t.test('the account list shows only the accounts in scope, and no id outside it (attack review)', async (t) => {
  const list = { accounts: [{ id: 'acc-1', parentId: 'acc-0' }, { id: 'acc-2' }, { id: 'acc-3', parentId: 'acc-1' }], total: 3 }
  t.same(withinScope('GET /accounts', list, scoped), { accounts: [{ id: 'acc-1' }, { id: 'acc-3', parentId: 'acc-1' }], total: 3 }, 'acc-2 gone, and acc-0 named nowhere')
  t.equal(withinScope('GET /accounts', list, {}), list, 'an unscoped credential sees everything')
  const other = { other: 1 }
  t.equal(withinScope('GET /accounts', other, scoped), other, 'anything else as it is')
  t.equal(withinScope('GET /accounts/{accountId}/balances', list, scoped), list, 'other routes as they are')
})

t.test('one account in scope names no parent outside it (attack review 7)', async (t) => {
  t.same(withinScope('GET /accounts/{accountId}', { id: 'acc-1', title: 'Desk', parentId: 'acc-0' }, scoped), { id: 'acc-1', title: 'Desk' })
  t.same(withinScope('GET /accounts/{accountId}', { id: 'acc-3', parentId: 'acc-1' }, scoped), { id: 'acc-3', parentId: 'acc-1' }, 'a parent in scope stays')
  t.same(withinScope('GET /accounts/{accountId}', { id: 'acc-1', parentId: 'acc-0' }, {}), { id: 'acc-1', parentId: 'acc-0' }, 'unscoped: as it is')
  t.same([scopesAnswer('GET /accounts/{accountId}', scoped), scopesAnswer('GET /accounts/{accountId}', {}), scopesAnswer('GET /accounts/{accountId}/balances', scoped)], [true, false, false])
})

t.test('accounts named in bodies are checked on the routes that name them', async (t) => {
  t.throws(() => checkBodyAccounts('POST /accounts/{accountId}/ramps', { from: { takeFrom: 'acc-2' } }, scoped), /Account not found/)
  t.doesNotThrow(() => checkBodyAccounts('POST /accounts/{accountId}/ramps', { from: { takeFrom: 'acc-3' } }, scoped))
  t.doesNotThrow(() => checkBodyAccounts('POST /accounts/{accountId}/ramps', { from: {} }, scoped), 'absent: the path account is debited')
  t.throws(() => checkBodyAccounts('POST /accounts/{accountId}/collateral/{collateralId}/addresses', { recoveryAccountId: 'acc-9' }, scoped), /Account not found/)
  t.doesNotThrow(() => checkBodyAccounts('POST /accounts/{accountId}/transfers/withdrawals/peeraccount', { destination: { accountId: 'someone' } }, scoped), "a peer's account is not scoped")
})
