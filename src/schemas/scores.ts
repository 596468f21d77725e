import { Type } from 'typebox'
import { DateOnly, Nullable, StringEnum, TimestampOut, Uuid } from './common.js'

const Contributor = Type.Object({
  name: Type.String(),
  value: Nullable(Type.Number()),
  unit: Type.String(),
  target: Type.Optional(Type.String()),
  baseline: Type.Optional(Nullable(Type.Number())),
  score: Type.Number({ description: '0–100' }),
  source: Type.String({ description: 'short citation of the target or curve' })
})

const Component = Type.Object({
  score: Type.Number({ description: '0–100' }),
  weight: Type.Number({ description: 'effective weight after renormalizing over the components present' }),
  contributors: Type.Array(Contributor)
})

export const HealthScore = Type.Object(
  {
    user_uuid: Uuid,
    date: DateOnly,
    score: Nullable(Type.Integer({ minimum: 0, maximum: 100 })),
    band: Nullable(StringEnum(['excellent', 'good', 'fair', 'poor'] as const)),
    state: StringEnum(['ok', 'insufficient_data'] as const),
    confidence: Type.Number({ minimum: 0, maximum: 1 }),
    components: Type.Object({
      activity: Type.Optional(Component),
      sleep: Type.Optional(Component),
      biometrics: Type.Optional(Component),
      blood: Type.Optional(Component)
    }),
    algorithm_version: Type.String(),
    computed_at: TimestampOut,
    window: Type.Object({ from: DateOnly, to: DateOnly }),
    excluded_readings: Type.Integer({ minimum: 0, description: 'suspect readings left out' }),
    stale: Type.Boolean({ description: 'true only under load shedding: the last stored score, not yet recomputed' })
  },
  { $id: 'HealthScore' }
)

export const ScoreQuery = Type.Object({ user_uuid: Type.Optional(Uuid), date: Type.Optional(DateOnly), fields: Type.Optional(Type.String({ maxLength: 512 })) }, { additionalProperties: false })
export const HistoryQuery = Type.Object({ from: Type.Optional(DateOnly), to: Type.Optional(DateOnly), fields: Type.Optional(Type.String({ maxLength: 512 })) }, { additionalProperties: false })

export const ScoreHistory = Type.Object({
  user_uuid: Uuid,
  algorithm_version: Type.String(),
  from: DateOnly,
  to: DateOnly,
  items: Type.Array(Type.Object({
    date: DateOnly,
    score: Nullable(Type.Integer()),
    band: Nullable(Type.String()),
    state: Type.String(),
    confidence: Type.Number(),
    computed_at: TimestampOut,
    stale: Type.Boolean({ description: 'made before the user\'s latest write; being recomputed' })
  }))
})

export const Algorithms = Type.Object({
  active: Type.String(),
  items: Type.Array(Type.Object({ version: Type.String(), released: DateOnly, changelog: Type.String(), active: Type.Boolean() }))
})
