/**
 * The health-score engine: pure functions, no I/O. Routes and the worker load the windowed data,
 * pick the active algorithm (HEALTH_SCORE_ALGORITHM, default LATEST_ALGORITHM_VERSION) and call
 * computeHealthScore; they add `user_uuid` and `computed_at` to the answer.
 * @see docs/health-score.md
 */
export { computeHealthScore, bandOf } from './compute-health-score.js'
export { ALGORITHMS, LATEST_ALGORITHM_VERSION, getAlgorithm } from './algorithms.js'
export { computeScoreWindow, type ScoreWindow } from './windows.js'
export type {
  ActivityDayInput,
  AlgorithmDefinition,
  Band,
  BiometricReadingInput,
  BloodPanelInput,
  BloodResultInput,
  ComponentName,
  ComponentResult,
  Contributor,
  HealthScoreInput,
  HealthScoreResult,
  Quality,
  ScoreState,
  Sex,
  SleepNightInput,
} from './types.js'
