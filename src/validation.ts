/**
 * Schema validators: bodies are not coerced (a string where a number belongs is a 400, as the
 * contract says), while params and query strings are coerced from text. All errors are reported.
 */
import { Ajv, type ErrorObject } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

function build(coerceTypes: boolean | 'array'): Ajv {
  const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: true, strict: false })
  addFormats(ajv)
  return ajv
}

const bodyAjv = build(false)
const textAjv = build('array')

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodyAjv : textAjv).compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>

/** A body validator for one schema, used where items are checked one by one (batch ingest). */
export function compileBodyValidator(schema: object) {
  return bodyAjv.compile(schema)
}

export function schemaErrors(errors: ErrorObject[] | null | undefined, prefix: string): Array<{ path: string; message: string }> {
  return (errors ?? []).map((e) => {
    const params = e.params as Record<string, unknown>
    let path = `${prefix}${e.instancePath}`
    if (e.keyword === 'additionalProperties') path += `/${String(params.additionalProperty)}`
    if (e.keyword === 'required') path += `/${String(params.missingProperty)}`
    return { path, message: e.message ?? 'invalid' }
  })
}
