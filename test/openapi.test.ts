/** The committed openapi/openapi.json must equal the document generated from the route schemas. */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { generateOpenApi, OPENAPI_FILE } from '../src/cli/openapi.js'

const generated = await generateOpenApi()
const committed = readFileSync(OPENAPI_FILE, 'utf8')
t.equal(committed, generated, 'openapi/openapi.json is out of date: run `npm run openapi` and commit it')

const doc = JSON.parse(generated) as { openapi: string; paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>> }
t.equal(doc.openapi, '3.1.0')
for (const [path, ops] of Object.entries(doc.paths)) {
  for (const [method, op] of Object.entries(ops)) {
    if (path.startsWith('/api')) {
      t.ok(op.security?.length, `${method.toUpperCase()} ${path} declares bearer auth`)
      t.ok(op.responses['401'], `${method.toUpperCase()} ${path} documents 401`)
    }
  }
}
