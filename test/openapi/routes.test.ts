import t from 'tap'
import { loadOpenApi } from '../../src/openapi/document.js'
import { NETWORK_LINK_ROUTES } from '../../src/network-link-routes.js'
import { specFile, specMissing } from '../helpers/spec.js'

t.test('the built-in Network Link routes are exactly the official document\'s operations', { skip: specMissing }, async (t) => {
  const operations = [...loadOpenApi(specFile).operations.keys()]
  t.same([...NETWORK_LINK_ROUTES].sort(), operations.sort())
})
