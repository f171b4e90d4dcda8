import t from 'tap'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { hmac, startGateway } from '../helpers/gateway.js'
import { RedisServer } from '../helpers/redis.js'

t.test('Redis killed under load: 503s while down, nothing unauthenticated forwarded, recovery by itself', async (t) => {
  const redis = await RedisServer.start()
  const backend = await Backend.start(() => ({ body: { ok: true } }))
  const gateway = await startGateway({
    config: {
      redis: { url: redis.url, commandTimeout: '200ms' },
      auth: hmac.auth,
      upstream: { url: backend.url, passthrough: '/nl' },
    },
    credentials: hmac.credentials,
    env: hmac.env,
  })
  t.teardown(async () => {
    await gateway.close()
    await backend.close()
    await redis.stop()
  })
  const key = hmac.key
  const statuses: number[] = []
  let accepted = 0
  let stop = false
  const load = Array.from({ length: 8 }, async () => {
    while (!stop) {
      const res = await send(gateway.url, { path: '/v2/accounts', key })
      statuses.push(res.status)
      if (res.status === 200) accepted++
      if (![200, 503].includes(res.status)) t.fail(`unexpected ${res.status}: ${res.text}`)
    }
  })
  await new Promise((r) => setTimeout(r, 400))
  await redis.stop()
  const whileDown = statuses.length
  await new Promise((r) => setTimeout(r, 800))
  const refusedWhileDown = statuses.slice(whileDown).filter((s) => s === 503).length
  await redis.start()
  const back = Date.now()
  while (Date.now() - back < 10_000 && statuses.at(-1) !== 200) await new Promise((r) => setTimeout(r, 50))
  await new Promise((r) => setTimeout(r, 300))
  stop = true
  await Promise.all(load)
  t.ok(refusedWhileDown > 10, `${refusedWhileDown} requests refused with 503 while Redis was down`)
  t.equal(statuses.at(-1), 200, `recovered ${Date.now() - back} ms after Redis came back`)
  t.equal(backend.requests.length, accepted, 'the backend saw exactly the accepted requests')
})
