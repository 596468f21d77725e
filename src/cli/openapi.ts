/**
 * Writes the OpenAPI document generated from the route schemas to openapi/openapi.json
 * (`npm run openapi`). A test fails when the committed file drifts from the code.
 */
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import app, { serverOptions } from '../app.js'
import { loadConfig } from '../config.js'

export const OPENAPI_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'openapi', 'openapi.json')

/** Build the app without connecting anywhere (pools connect lazily) and return its document. */
export async function generateOpenApi(): Promise<string> {
  const config = loadConfig({ DATABASE_URL: 'postgres://openapi@127.0.0.1:1/openapi', AUTH_JWT_SECRET: 'x'.repeat(32), LOG_LEVEL: 'silent', WORKER_ENABLED: 'false' })
  const fastify = Fastify(serverOptions(config))
  await fastify.register(app, { config, databaseUrl: config.DATABASE_URL!, jwtSecret: config.AUTH_JWT_SECRET, metricsPort: null })
  await fastify.ready()
  const document = JSON.stringify(fastify.swagger(), null, 2) + '\n'
  await fastify.close()
  return document
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const document = await generateOpenApi()
  writeFileSync(OPENAPI_FILE, document)
  console.log(`wrote ${path.relative(process.cwd(), OPENAPI_FILE)}`)
}
