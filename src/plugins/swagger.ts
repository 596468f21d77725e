/**
 * OpenAPI 3.1 generated from the route schemas; Swagger UI at /docs and the document at
 * /openapi.json (also committed at openapi/openapi.json, checked for drift by a test).
 */
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { Problem } from '../schemas/common.js'

export const OPENAPI_INFO = {
  title: 'Health Tracker API',
  version: '1.0.0',
  description:
    'Users, blood tests, bio-metrics, physical activity and sleep, and an explainable, versioned health score. ' +
    'Every /api route needs `Authorization: Bearer <JWT>`. Errors are RFC 9457 application/problem+json. ' +
    'GET answers carry a strong ETag (send it as If-None-Match for a 304), `?fields=a,b` narrows them, and cached ' +
    'answers of 1 KiB or more come gzip-coded (Content-Encoding: gzip) to clients that send Accept-Encoding: gzip.',
  license: { name: 'MIT', identifier: 'MIT' },
  contact: { name: 'Health Tracker maintainers', url: 'https://github.com/health-tracker/health-tracker-api' }
}

export default fp(
  async (fastify) => {
    fastify.addSchema(Problem)
    await fastify.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: OPENAPI_INFO,
        servers: [{ url: '/', description: 'this server' }],
        tags: [
          { name: 'users', description: 'user accounts' },
          { name: 'blood-tests', description: 'blood panels, one per user and test_date' },
          { name: 'bio-metrics', description: 'vital signs and body measurements, one per user and recorded time' },
          { name: 'physical-activity', description: 'daily activity, one per user and date' },
          { name: 'sleep-activity', description: 'sleep, one per user and the date the sleep ended' },
          { name: 'health-score', description: 'the explainable health score' },
          { name: 'data-quality', description: 'ingest rejections' },
          { name: 'audit', description: 'who read or changed whose data' },
          { name: 'operations', description: 'probes and documentation' }
        ],
        components: {
          securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } }
        }
      },
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`)
      }
    })
    await fastify.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } })
  },
  { name: 'swagger' }
)
