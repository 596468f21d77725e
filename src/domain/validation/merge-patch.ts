/**
 * PATCH support, by design rather than by a second set of rules: the caller merges the stored
 * record with the patch and re-validates the MERGED record with the same validator as POST.
 * Cross-field rules (systolic > diastolic, stages ≤ time in bed, avg ≤ max heart rate) involve
 * fields the patch may not touch, so validating the patch alone could not be correct.
 *
 * Merge semantics follow JSON Merge Patch (RFC 7396) at the top level: a key absent from the patch
 * keeps the stored value; `null` clears it; any other value replaces it. Clearing every metric is
 * then caught by the validator's "at least one metric" rule. Natural keys (`recorded`, `date`,
 * `test_date`, `user_uuid`) come from the URL; the caller must not let a patch change them.
 * @see https://www.rfc-editor.org/rfc/rfc7396
 */
export function applyMergePatch<T extends object>(
  stored: T,
  patch: Readonly<{ [K in keyof T]?: T[K] | null }>,
): T {
  const merged = { ...stored } as Record<string, unknown>
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue
    merged[key] = value
  }
  return merged as T
}
