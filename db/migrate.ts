/**
 * Runs the frozen migrations in db/migrations. Kysely's Migrator takes a PostgreSQL advisory lock
 * (pg_advisory_xact_lock) around the run, so ten pods starting at once migrate exactly once.
 * `npm run db:migrate` runs it as a separate step; the API runs it at boot when MIGRATE_ON_START.
 * @see https://kysely.dev/docs/migrations
 */
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Kysely, Migrator, PostgresDialect, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely'
import pg from 'pg'

const migrationsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations')

/** Loads every .ts/.js migration in db/migrations (compiled or not), sorted by its date-prefixed name. */
export class FolderMigrationProvider implements MigrationProvider {
  constructor(private readonly dir = migrationsDir) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const migrations: Record<string, Migration> = {}
    for (const file of (await fs.readdir(this.dir)).sort()) {
      if (!/\.(ts|js|mjs)$/.test(file) || file.endsWith('.d.ts')) continue
      const module = (await import(pathToFileURL(path.join(this.dir, file)).href)) as Migration
      migrations[file.replace(/\.(ts|js|mjs)$/, '')] = module
    }
    return migrations
  }
}

export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: new FolderMigrationProvider() })
  const result = await migrator.migrateToLatest()
  if (result.error) throw result.error instanceof Error ? result.error : new Error(String(result.error))
  return result
}

/** Names of migrations on disk that the database has not run yet. */
export async function pendingMigrations(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new FolderMigrationProvider() })
  const all = await migrator.getMigrations()
  return all.filter((m) => !m.executedAt).map((m) => m.name)
}

async function main(): Promise<void> {
  const { loadConfig } = await import('../src/config.js')
  const { resolveDatabase } = await import('../src/embedded.js')
  const config = loadConfig()
  const database = await resolveDatabase(config, console)
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 1 }) }) })
  try {
    const result = await migrateToLatest(db)
    for (const r of result.results ?? []) console.log(`${r.status}: ${r.migrationName}`)
    if (!result.results?.length) console.log('database is up to date')
  } finally {
    await db.destroy()
    await database.stop()
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exit(1)
  })
}
