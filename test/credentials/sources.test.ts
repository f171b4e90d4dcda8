import t from 'tap'
import { CredentialRecordError } from '../../src/credentials/credential.js'
import { HttpCredentialSource, recordFrom, RedisCredentialSource } from '../../src/credentials/sources.js'
import { StoreUnavailableError } from '../../src/nonce/store.js'
import { createRedisClient, redisReady } from '../../src/redis.js'
import { CredentialService } from '../helpers/credential-service.js'
import { until } from '../helpers/poll.js'
import { RedisServer } from '../helpers/redis.js'

t.test('recordFrom: enabled as a boolean or as text', async (t) => {
  const base = { subject: 'u', secret: 's' }
  t.equal(recordFrom(base).enabled, true, 'absent: enabled')
  t.equal(recordFrom({ ...base, enabled: true }).enabled, true)
  t.equal(recordFrom({ ...base, enabled: false }).enabled, false)
  t.equal(recordFrom({ ...base, enabled: 'true' }).enabled, true)
  t.equal(recordFrom({ ...base, enabled: '1' }).enabled, true)
  for (const text of ['false', '0', '', 'no', 'yes', 'TRUE']) t.equal(recordFrom({ ...base, enabled: text }).enabled, false, `"${text}" is not enabled (only "true" and "1" are)`)
})

t.test('recordFrom: accounts as a list or a comma list; the key from secret or publicKey', async (t) => {
  t.same(recordFrom({ subject: 'u', secret: 's', accounts: ' a1, a2 ,,a3 ,' }).accounts, ['a1', 'a2', 'a3'], 'trimmed, empty items dropped')
  t.same(recordFrom({ subject: 'u', secret: 's', accounts: ['x', 'y'] }).accounts, ['x', 'y'])
  t.same(recordFrom({ subject: 'u', secret: 's', accounts: '' }).accounts, [], 'an empty comma list is no account, not every account')
  t.equal(recordFrom({ subject: 'u', secret: 's' }).accounts, undefined)
  t.equal(recordFrom({ subject: 'u', secret: 'sec' }).key, 'sec')
  t.equal(recordFrom({ subject: 'u', publicKey: 'PEM' }).key, 'PEM')
  t.same([recordFrom({ subject: 'u', secret: 'sec' }).keyField, recordFrom({ subject: 'u', publicKey: 'PEM' }).keyField], ['secret', 'publicKey'], 'the field it came from, which the scheme must take')
  t.throws(() => recordFrom({ subject: 'u', secret: 'sec', publicKey: 'PEM' }), { message: /both secret and publicKey/ }, 'both: which one the scheme means is not a guess')
  t.same(recordFrom({ id: 'cid', subject: 'legacy-1', secret: 's' }), { id: 'cid', enabled: true, subject: 'legacy-1', accounts: undefined, key: 's', keyField: 'secret', scheme: undefined })
})

t.test('recordFrom: the scheme as an object or JSON text', async (t) => {
  t.same(recordFrom({ subject: 'u', secret: 's', scheme: '{"hash":"sha512","postEncoding":"hexstr"}' }).scheme, { hash: 'sha512', postEncoding: 'hexstr' })
  t.same(recordFrom({ subject: 'u', secret: 's', scheme: { hash: 'sha512' } }).scheme, { hash: 'sha512' })
  t.throws(() => recordFrom({ subject: 'u', secret: 's', scheme: '{hash: sha512}' }), CredentialRecordError, 'text that is not JSON')
})

t.test('recordFrom: a record without subject or key is refused', async (t) => {
  t.throws(() => recordFrom({ secret: 's' }), CredentialRecordError)
  t.throws(() => recordFrom({ subject: '', secret: 's' }), CredentialRecordError, 'an empty subject')
  t.throws(() => recordFrom({ subject: 42 as unknown as string, secret: 's' }), CredentialRecordError, 'a subject that is not text')
  t.throws(() => recordFrom({ subject: 'u' }), { name: 'CredentialRecordError', message: /neither secret nor publicKey/ })
  t.throws(() => recordFrom({ subject: 'u', secret: 's', tlsSubject: {} }), { name: 'CredentialRecordError', message: /at least one subject attribute/ }, 'a tlsSubject naming nothing would match any certificate')
  t.throws(() => recordFrom({ subject: 'u', secret: 's', tlsSubject: '{}' }), CredentialRecordError, 'also as JSON text')
  t.throws(() => recordFrom({ subject: 'u', secret: '' }), CredentialRecordError, 'an empty secret')
  t.throws(() => recordFrom({ subject: 'u', publicKey: {} as unknown as string }), CredentialRecordError, 'a key that is not text')
  for (const accounts of [null, false, 5, {}, [1]]) {
    t.throws(() => recordFrom({ subject: 'u', secret: 's', accounts: accounts as unknown as string }), { message: /accounts must be a list/ }, `accounts ${JSON.stringify(accounts)} is refused, not read as no scope (attack review 8)`)
  }
})

t.test('RedisCredentialSource: HGETALL of prefix + key against a real redis-server', async (t) => {
  const server = await RedisServer.start()
  const admin = server.client()
  const redis = createRedisClient(server.url, { commandTimeoutMs: 500 })
  redis.on('error', () => {})
  t.teardown(async () => {
    redis.disconnect()
    admin.disconnect()
    await server.stop()
  })
  await redisReady(redis, 5000)
  await admin.hset('creds:key-1', { id: 'from-redis', subject: 'erin', secret: 'redis-secret', accounts: 'acc-1, acc-2', enabled: '1', scheme: '{"hash":"sha512"}' })
  await admin.hset('other:key-2', { subject: 'frank', secret: 'x' })
  const source = new RedisCredentialSource(redis, 'creds:')
  t.equal(source.name, 'redis')
  t.same(await source.lookup('key-1'), { id: 'from-redis', enabled: true, subject: 'erin', accounts: ['acc-1', 'acc-2'], key: 'redis-secret', keyField: 'secret', scheme: { hash: 'sha512' } })
  t.equal(await source.lookup('key-absent'), undefined, 'no hash: unknown key')
  t.equal(await source.lookup('key-2'), undefined, 'another prefix\'s hash is not read')
  t.equal(await source.lookup(''), undefined)
  await admin.hset('creds:broken', { subject: 'gina' })
  await t.rejects(source.lookup('broken'), CredentialRecordError, 'a hash without a key is a bad record, not an unknown key')

  await server.stop()
  const down = await source.lookup('key-1').then(
    () => undefined,
    (err: unknown) => err,
  )
  t.ok(down instanceof StoreUnavailableError, 'Redis down: StoreUnavailableError')
  t.match((down as Error).message, /Redis credential store unavailable/)
  t.ok((down as Error).cause, 'the client error is kept as the cause')

  await server.start()
  await redisReady(redis, 5000).catch(() => {})
  await admin.hset('creds:key-1', { subject: 'erin', secret: 'again' })
  const back = await until(() => source.lookup('key-1').catch(() => undefined), { what: 'lookups after Redis returns' })
  t.equal(back.key, 'again', 'answers again once Redis is back')
})

t.test('HttpCredentialSource against a real HTTP service', async (t) => {
  const service = await CredentialService.start()
  t.teardown(() => service.close())
  service.records.set('key/with?chars&=', { id: 'svc', subject: 'hank', publicKey: 'PEM', accounts: ['a1'], enabled: false, scheme: { algorithm: 'rsa' } })
  const source = new HttpCredentialSource(service.url, 2000, { authorization: 'Bearer lookup-token' })
  t.equal(source.name, 'http')

  t.test('200: the record', async (t) => {
    t.same(await source.lookup('key/with?chars&='), { id: 'svc', enabled: false, subject: 'hank', accounts: ['a1'], key: 'PEM', keyField: 'publicKey', scheme: { algorithm: 'rsa' } })
  })

  t.test('the API key travels in the POST body, never in the URL', async (t) => {
    const seen = service.requests.at(-1)
    t.equal(seen?.method, 'POST')
    t.equal(seen?.url, '/internal/credentials', 'the URL as configured')
    t.notOk(seen?.url.includes('key'), 'nothing of the key in the URL')
    t.same(JSON.parse(seen?.body ?? ''), { apiKey: 'key/with?chars&=' }, 'the body is {"apiKey": …}')
    t.equal(seen?.headers['content-type'], 'application/json')
    t.equal(seen?.headers.authorization, 'Bearer lookup-token', 'configured headers are sent')
  })

  t.test('404: unknown key', async (t) => {
    t.equal(await source.lookup('nobody'), undefined)
    t.equal(service.requests.at(-1)?.apiKey, 'nobody')
  })

  t.test('500 or any other status: the store is unavailable', async (t) => {
    for (const status of [500, 503, 401, 302, 201]) {
      service.answer = () => ({ status, body: { subject: 'u', secret: 's' } })
      await t.rejects(source.lookup('k'), { name: 'StoreUnavailableError', message: new RegExp(`answered ${status}`) }, `${status}`)
    }
  })

  t.test('200 with something other than an object: a bad record', async (t) => {
    for (const body of ['"text"', '42', 'null', 'true']) {
      service.answer = () => ({ status: 200, body })
      await t.rejects(source.lookup('k'), CredentialRecordError, body)
    }
    service.answer = () => ({ status: 200, body: [] })
    await t.rejects(source.lookup('k'), CredentialRecordError, 'an array has no subject')
    service.answer = () => ({ status: 200, body: '{"subject": "u", ' })
    await t.rejects(source.lookup('k'), 'a truncated JSON body is refused')
  })

  t.test('no answer in time: StoreUnavailableError', async (t) => {
    service.answer = () => ({ status: 200, body: { subject: 'u', secret: 's' } })
    service.hold()
    const quick = new HttpCredentialSource(service.url, 300)
    const started = performance.now()
    await t.rejects(quick.lookup('slow'), StoreUnavailableError)
    const elapsed = performance.now() - started
    t.ok(elapsed >= 250 && elapsed < 2000, `gave up after about the timeout (${Math.round(elapsed)} ms)`)
    service.release()
  })

  t.test('nothing listening: StoreUnavailableError', async (t) => {
    const closed = await CredentialService.start()
    const url = closed.url
    await closed.close()
    await t.rejects(new HttpCredentialSource(url, 1000).lookup('k'), StoreUnavailableError)
  })
})
