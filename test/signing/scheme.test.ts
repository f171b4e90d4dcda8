import t from 'tap'
import { parseScheme, SchemeError } from '../../src/signing/index.js'

t.test('valid schemes', async (t) => {
  t.same(parseScheme({ algorithm: 'rsa', hash: 'sha3-256', preEncoding: 'url-encoded', postEncoding: 'base58' }), {
    algorithm: 'rsa',
    hash: 'sha3-256',
    preEncoding: 'url-encoded',
    postEncoding: 'base58',
  })
  t.same(parseScheme({ algorithm: 'ecdsa', hash: 'sha256', curve: 'secp256k1', preEncoding: 'plain', postEncoding: 'hexstr' }).curve, 'secp256k1')
})

t.test('impossible combinations are configuration errors naming every problem', async (t) => {
  const cases: Array<[unknown, Array<[string, RegExp]>]> = [
    [{ algorithm: 'ecdsa', hash: 'sha512', preEncoding: 'plain', postEncoding: 'base64' }, [['hash', /sha256 only/]]],
    [{ algorithm: 'rsa', hash: 'sha256', preEncoding: 'plain', postEncoding: 'url-encoded' }, [['postEncoding', /"url-encoded" is not supported/]]],
    [{ algorithm: 'dsa', hash: 'md5', preEncoding: 'rot13', postEncoding: 'plain' }, [['algorithm', /dsa/], ['hash', /md5/], ['preEncoding', /rot13/], ['postEncoding', /plain/]]],
    [{ algorithm: 'hmac', hash: 'sha256', curve: 'secp256k1', preEncoding: 'plain', postEncoding: 'base64' }, [['curve', /only ECDSA/]]],
    [{ algorithm: 'ecdsa', hash: 'sha256', curve: 'p384', preEncoding: 'plain', postEncoding: 'base64' }, [['curve', /p384/]]],
    [{}, [['algorithm', /missing/], ['hash', /missing/], ['preEncoding', /missing/], ['postEncoding', /missing/]]],
    [null, [['algorithm', /missing/], ['hash', /missing/], ['preEncoding', /missing/], ['postEncoding', /missing/]]],
  ]
  for (const [input, expected] of cases) {
    try {
      parseScheme(input)
      t.fail(`accepted ${JSON.stringify(input)}`)
    } catch (err) {
      t.type(err, SchemeError)
      const problems = (err as SchemeError).problems
      t.equal(problems.length, expected.length, JSON.stringify(input))
      expected.forEach(([field, pattern], i) => {
        t.equal(problems[i]?.field, field)
        t.match(problems[i]?.message, pattern)
      })
    }
  }
})
