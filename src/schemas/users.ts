import { Type, type Static } from 'typebox'
import { DateOnly, Nullable, StringEnum, TimestampOut, Uuid } from './common.js'

export const SEXES = ['female', 'male', 'other', 'unknown'] as const

const Email = Type.String({ format: 'email', maxLength: 254, description: 'unique, case-insensitively' })
const Name = Nullable(Type.String({ minLength: 1, maxLength: 200 }))
const HeightCm = Nullable(Type.Number({ description: 'height in cm; plausible 50–275' }))
const Timezone = Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone name, default UTC' })

export const User = Type.Object(
  {
    user_uuid: Uuid,
    email: Type.String(),
    name: Nullable(Type.String()),
    birth_date: Nullable(DateOnly),
    sex: StringEnum(SEXES),
    height_cm: Nullable(Type.Number()),
    timezone: Type.String(),
    created_at: TimestampOut,
    updated_at: TimestampOut
  },
  { $id: 'User' }
)
export type UserType = Static<typeof User>

export const UserQuery = Type.Object({ fields: Type.Optional(Type.String({ maxLength: 512 })) }, { additionalProperties: false })

export const UserCreate = Type.Object(
  {
    user_uuid: Type.Optional(Uuid),
    email: Email,
    name: Type.Optional(Name),
    birth_date: Type.Optional(Nullable(DateOnly)),
    sex: Type.Optional(StringEnum(SEXES)),
    height_cm: Type.Optional(HeightCm),
    timezone: Type.Optional(Timezone)
  },
  { additionalProperties: false }
)
export type UserCreateType = Static<typeof UserCreate>

export const UserPatch = Type.Object(
  {
    email: Type.Optional(Email),
    name: Type.Optional(Name),
    birth_date: Type.Optional(Nullable(DateOnly)),
    sex: Type.Optional(StringEnum(SEXES)),
    height_cm: Type.Optional(HeightCm),
    timezone: Type.Optional(Timezone)
  },
  { additionalProperties: false, minProperties: 1 }
)
export type UserPatchType = Static<typeof UserPatch>
