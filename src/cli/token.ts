/**
 * Mint a development token from the configured secret (AUTH_JWT_SECRET, or the embedded
 * default's generated secret under DATA_DIR):
 *   npm run token -- --sub <uuid> --role admin [--expires 3600]
 */
import { parseArgs } from 'node:util'
import { randomUUID } from 'node:crypto'
import { loadConfig } from '../config.js'
import { resolveJwtSecret } from '../embedded.js'
import { ROLES, signToken, type Role } from '../plugins/auth.js'

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    role: { type: 'string', default: 'user' },
    expires: { type: 'string', default: '3600' }
  }
})
const role = values.role as Role
if (!(ROLES as readonly string[]).includes(role)) {
  console.error(`--role must be one of ${ROLES.join(', ')}`)
  process.exit(2)
}
const sub = values.sub ?? randomUUID()
if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(sub)) {
  console.error('--sub must be a user UUID')
  process.exit(2)
}
const config = loadConfig()
const secret = resolveJwtSecret(config)
if (!secret) {
  console.error('no HS256 secret: set AUTH_JWT_SECRET (tokens of a JWKS identity provider are minted by that provider)')
  process.exit(2)
}
const expires = Number(values.expires)
console.log(signToken(secret, { sub, role, expiresInSeconds: expires, iss: config.AUTH_JWT_ISSUER, aud: config.AUTH_JWT_AUDIENCE }))
