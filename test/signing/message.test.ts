import t from 'tap'
import { buildMessage } from '../../src/signing/index.js'

t.test('SPEC-README worked example', async (t) => {
  const message = buildMessage({
    timestamp: '1691606624184',
    nonce: 'c3d5f400-0e7e-4f94-a199-44b8cc7b6b81',
    method: 'get',
    endpoint: '/accounts/A1234/balances?limit=2',
  })
  t.equal(message.toString('utf8'), '1691606624184c3d5f400-0e7e-4f94-a199-44b8cc7b6b81GET/accounts/A1234/balances?limit=2')
})

t.test('body bytes are appended exactly; strings are UTF-8', async (t) => {
  const body = Buffer.from([0x7b, 0xff, 0x00, 0x7d]) // not valid UTF-8: kept as received
  const message = buildMessage({ timestamp: '1', nonce: 'n', method: 'POST', endpoint: Buffer.from('/ü', 'utf8'), body })
  t.same(message, Buffer.concat([Buffer.from('1nPOST/ü', 'utf8'), body]))
  t.same(buildMessage({ timestamp: '1', nonce: 'n', method: 'PUT', endpoint: '/x', body: '"é"' }), Buffer.from('1nPUT/x"é"', 'utf8'))
  t.same(buildMessage({ timestamp: '1', nonce: 'n', method: 'DELETE', endpoint: '/x', body: undefined }), Buffer.from('1nDELETE/x'))
})
