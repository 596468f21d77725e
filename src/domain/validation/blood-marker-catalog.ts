/**
 * The blood-marker catalog as data: LOINC code, canonical unit, accepted units with conversions,
 * adult reference intervals, plausibility bounds and reporting precision. The functions that use
 * it live in src/domain/blood-markers.ts.
 *
 * Conventions
 * - Conversions: `toCanonical(value in this unit)`; factors come from molar masses or unit algebra.
 * - Reference intervals are INCLUSIVE (`low ≤ value ≤ high` is "normal"). A guideline cut-off of
 *   the form "< X" is stored as X minus one reporting step (glucose "<100 mg/dL" → 99.9), which is
 *   exact because canonical values are rounded to that step before flagging. `null` means the
 *   source defines no limit on that side (no "low" for LDL, no "high" for HDL).
 * - Labs' own intervals vary by assay: these are population defaults used when a result does not
 *   carry the lab's interval (research file §2).
 * - Plausibility (`plausibleMin`/`plausibleMax`, canonical units) is an ENGINEERING CHOICE
 *   (research file §2 "Lab plausibility (UNVERIFIED engineering choice)"): values must be > 0; the
 *   maximum sits far above documented pathology (acute liver injury, sepsis, chylomicronaemia) so
 *   only unit or typing errors are rejected. A flat "20× the upper reference" rule was considered
 *   and rejected: it would refuse real ALT, CRP, triglyceride and TSH values seen in hospitals.
 *
 * Citations `[n]` point to /work/shared/research/health-score-sources.md.
 */

export const BLOOD_MARKER_IDS = [
  'glucose', 'hba1c', 'total_cholesterol', 'hdl', 'ldl', 'triglycerides', 'hemoglobin',
  'creatinine', 'alt', 'ast', 'tsh', 'vitamin_d', 'crp',
] as const
export type BloodMarkerId = (typeof BLOOD_MARKER_IDS)[number]

export interface UnitConversion {
  /** Display spelling, also stored as `original_unit`. */
  readonly unit: string
  /** Other spellings clients send for the same unit (matching is also case- and µ/u-insensitive). */
  readonly aliases?: readonly string[]
  readonly toCanonical: (value: number) => number
  readonly fromCanonical: (value: number) => number
}

export interface ReferenceInterval {
  readonly low: number | null
  readonly high: number | null
}

export interface BloodMarkerDefinition {
  readonly id: BloodMarkerId
  readonly loinc: string
  readonly display: string
  readonly canonicalUnit: string
  /** Decimals of the canonical value as reported (labs' usual precision). */
  readonly decimals: number
  /** Every accepted unit; the first one is the canonical unit. */
  readonly units: readonly UnitConversion[]
  readonly reference: { readonly female: ReferenceInterval; readonly male: ReferenceInterval }
  /** Inclusive, canonical units. */
  readonly plausibleMin: number
  readonly plausibleMax: number
}

function same(unit: string, aliases?: readonly string[]): UnitConversion {
  return { unit, aliases, toCanonical: (v) => v, fromCanonical: (v) => v }
}
function times(unit: string, factor: number, aliases?: readonly string[]): UnitConversion {
  return { unit, aliases, toCanonical: (v) => v * factor, fromCanonical: (v) => v / factor }
}
function dividedBy(unit: string, divisor: number, aliases?: readonly string[]): UnitConversion {
  return { unit, aliases, toCanonical: (v) => v / divisor, fromCanonical: (v) => v * divisor }
}
function both(interval: ReferenceInterval): BloodMarkerDefinition['reference'] {
  return { female: interval, male: interval }
}

/** Lipids: cholesterol's molar mass 386.65 g/mol, so 1 mmol/L = 38.67 mg/dL. @see [47] */
const CHOLESTEROL_MG_DL_PER_MMOL_L = 38.67
/** 1 U = 1 µmol/min = 1/60 µkat by definition, so 1 µkat/L = 60 U/L (the research file's ×0.017 [54]). */
const ENZYME_U_PER_UKAT = 60
const ENZYME_UNITS = [same('U/L', ['IU/L']), times('µkat/L', ENZYME_U_PER_UKAT)]

export const BLOOD_MARKERS: Readonly<Record<BloodMarkerId, BloodMarkerDefinition>> = {
  glucose: {
    // LOINC 2345-7 "Glucose [Mass/volume] in Serum or Plasma" [46]: the panel does not say whether
    // the patient fasted (1558-6 is the fasting-specific code [44]); the interval below is fasting.
    id: 'glucose', loinc: '2345-7', display: 'Glucose', canonicalUnit: 'mg/dL', decimals: 1,
    // Molar mass of glucose 180.16 g/mol: 1 mmol/L = 180.16 mg/L = 18.016 mg/dL ([45] rounds to 18).
    units: [same('mg/dL'), times('mmol/L', 18.016)],
    // @see ADA Standards: normal fasting < 100 mg/dL [1]; level 1 hypoglycaemia < 70 mg/dL [2].
    reference: both({ low: 70, high: 99.9 }),
    // Engineering choice: below 10 mg/dL (0.55 mmol/L) is almost always mmol/L sent as mg/dL.
    plausibleMin: 10, plausibleMax: 3000,
  },
  hba1c: {
    // LOINC 4548-4 "Hemoglobin A1c/Hemoglobin.total in Blood" (whole blood, not serum) [46].
    id: 'hba1c', loinc: '4548-4', display: 'HbA1c', canonicalUnit: '%', decimals: 1,
    units: [
      same('%', ['% NGSP', 'percent']),
      // IFCC master equation NGSP = 0.0915 × IFCC + 2.15 [3]; confirmed via search on
      // information.ifcchba1c.org "Master Equation" (NGSP's site gives 0.09148/2.152).
      // The inverse is the exact inverse of that line (≈ 10.93 × NGSP − 23.5).
      { unit: 'mmol/mol', toCanonical: (v) => 0.0915 * v + 2.15, fromCanonical: (v) => (v - 2.15) / 0.0915 },
    ],
    // @see ADA: 5.7–6.4 % prediabetes, ≥ 6.5 % diabetes [1], so normal is < 5.7 %. No lower limit.
    reference: both({ low: null, high: 5.6 }),
    plausibleMin: 2, plausibleMax: 25,
  },
  total_cholesterol: {
    id: 'total_cholesterol', loinc: '2093-3', display: 'Total cholesterol', canonicalUnit: 'mg/dL', decimals: 0,
    units: [same('mg/dL'), times('mmol/L', CHOLESTEROL_MG_DL_PER_MMOL_L)],
    // @see NCEP ATP III: < 200 desirable, 200–239 borderline, ≥ 240 high [4].
    reference: both({ low: null, high: 199 }),
    plausibleMin: 1, plausibleMax: 2000,
  },
  hdl: {
    id: 'hdl', loinc: '2085-9', display: 'HDL cholesterol', canonicalUnit: 'mg/dL', decimals: 0,
    units: [same('mg/dL'), times('mmol/L', CHOLESTEROL_MG_DL_PER_MMOL_L)],
    // @see ATP III: < 40 low [4]; < 50 for women per AHA (secondary, UNVERIFIED) [48].
    // ≥ 60 is protective, not abnormal, so there is no upper limit.
    reference: { female: { low: 50, high: null }, male: { low: 40, high: null } },
    plausibleMin: 1, plausibleMax: 300,
  },
  ldl: {
    // LOINC 13457-7 is the calculated LDL most panels report [46]; a direct assay is 18262-6
    // (confirmed via search in the FHIR R4 ValueSet ldlcholesterol-codes). Both share this catalog entry.
    id: 'ldl', loinc: '13457-7', display: 'LDL cholesterol', canonicalUnit: 'mg/dL', decimals: 0,
    units: [same('mg/dL'), times('mmol/L', CHOLESTEROL_MG_DL_PER_MMOL_L)],
    // @see ATP III: < 100 optimal [4]. No lower limit.
    reference: both({ low: null, high: 99 }),
    plausibleMin: 1, plausibleMax: 1500,
  },
  triglycerides: {
    id: 'triglycerides', loinc: '2571-8', display: 'Triglycerides', canonicalUnit: 'mg/dL', decimals: 0,
    // Triolein's molar mass 885.7 g/mol: 1 mmol/L = 88.57 mg/dL [49].
    units: [same('mg/dL'), times('mmol/L', 88.57)],
    // @see < 150 normal, 150–199 borderline, 200–499 high, ≥ 500 very high [48][50].
    reference: both({ low: null, high: 149 }),
    plausibleMin: 1, plausibleMax: 20_000,
  },
  hemoglobin: {
    id: 'hemoglobin', loinc: '718-7', display: 'Hemoglobin', canonicalUnit: 'g/dL', decimals: 1,
    units: [same('g/dL'), dividedBy('g/L', 10)],
    // Low: WHO anaemia cut-offs 13.0 g/dL men, 12.0 non-pregnant women [51] (the 2024 guideline
    // kept them for adults [52]). High: Mayo Clinic 16.6 men, 15.0 women (confirmed via search on
    // the Mayo Clinic Health Information Library "Hemoglobin test" page).
    reference: { female: { low: 12, high: 15 }, male: { low: 13, high: 16.6 } },
    // Engineering choice: outside 2–30 g/dL is a g/L-vs-g/dL mix-up.
    plausibleMin: 2, plausibleMax: 30,
  },
  creatinine: {
    id: 'creatinine', loinc: '2160-0', display: 'Creatinine', canonicalUnit: 'mg/dL', decimals: 2,
    // Molar mass 113.12 g/mol: 1 mg/dL = 88.4 µmol/L [45].
    units: [same('mg/dL'), dividedBy('µmol/L', 88.4)],
    // @see Mayo Clinic via secondary source [53] (UNVERIFIED): men 0.74–1.35, women 0.59–1.04 mg/dL.
    reference: { female: { low: 0.59, high: 1.04 }, male: { low: 0.74, high: 1.35 } },
    plausibleMin: 0.01, plausibleMax: 40,
  },
  alt: {
    id: 'alt', loinc: '1742-6', display: 'ALT', canonicalUnit: 'U/L', decimals: 0,
    units: ENZYME_UNITS,
    // @see ACG 2017 (Kwo), "true healthy" ULN 29–33 IU/L men, 19–25 women [7]; the top of each
    // range is used. A low ALT has no clinical meaning, so there is no lower limit.
    reference: { female: { low: null, high: 25 }, male: { low: null, high: 33 } },
    plausibleMin: 1, plausibleMax: 20_000,
  },
  ast: {
    id: 'ast', loinc: '1920-8', display: 'AST', canonicalUnit: 'U/L', decimals: 0,
    units: ENZYME_UNITS,
    // ≈ 8–33 U/L: UNVERIFIED in the research file §2 (no source); search found it only on secondary pages
    // quoting MedlinePlus ("The normal range is 8 to 33 U/L").
    reference: both({ low: 8, high: 33 }),
    plausibleMin: 1, plausibleMax: 20_000,
  },
  tsh: {
    id: 'tsh', loinc: '3016-3', display: 'TSH', canonicalUnit: 'mIU/L', decimals: 2,
    // 1 µIU/mL = 10⁻⁶ IU / 10⁻³ L = 1 mIU/L exactly.
    units: [same('mIU/L', ['mU/L']), same('µIU/mL', ['µU/mL'])],
    // @see NHANES III-derived 0.45–4.5 mIU/L (secondary) [55]; the upper limit rises with age.
    reference: both({ low: 0.45, high: 4.5 }),
    plausibleMin: 0.01, plausibleMax: 1000,
  },
  vitamin_d: {
    // LOINC 62292-8 (25-hydroxyvitamin D2+D3) as used in public code; official display UNVERIFIED [56].
    id: 'vitamin_d', loinc: '62292-8', display: '25-OH vitamin D', canonicalUnit: 'ng/mL', decimals: 1,
    // Molar mass of 25(OH)D ≈ 400.64 g/mol: 1 ng/mL = 2.496 nmol/L (research file: UNVERIFIED; the
    // molar mass 400.65 g/mol was confirmed via search on a lab unit-converter page, which rounds
    // the factor to 2.5). 1 ng/mL = 1 µg/L exactly.
    units: [same('ng/mL', ['µg/L']), dividedBy('nmol/L', 2.496)],
    // @see Endocrine Society 2011: ≥ 30 ng/mL sufficient [57]. Upper 100 ng/mL is the usual lab
    // upper limit (UNVERIFIED, not confirmed in a primary source this session).
    reference: both({ low: 30, high: 100 }),
    plausibleMin: 0.1, plausibleMax: 1000,
  },
  crp: {
    // LOINC 1988-5 "C reactive protein [Mass/volume] in Serum or Plasma": UNVERIFIED in the research
    // file; confirmed via search (OHDSI concept 3020460 in a public phenotype repository).
    // hs-CRP is 30522-7 [58]; both report mg/L and share this entry.
    id: 'crp', loinc: '1988-5', display: 'C-reactive protein', canonicalUnit: 'mg/L', decimals: 2,
    units: [same('mg/L'), times('mg/dL', 10)],
    // @see AHA/CDC 2003 (Pearson): < 1 low, 1–3 average, > 3 mg/L high cardiovascular risk [59].
    reference: both({ low: null, high: 3 }),
    plausibleMin: 0.01, plausibleMax: 1000,
  },
}
