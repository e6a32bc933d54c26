// The summary table of the side-by-side benchmarks: per metric the median of every variant (rwm, its
// peers, the floor), the ratios of rwm to each of them, and which way is good for rwm.
import { fmt, median, ratio, renderTable } from './report.js';

export type Metrics = Record<string, number>;

export interface VariantRun<V extends string> {
  readonly variant: V;
  /** Which scenario the run belongs to, where a benchmark has several. */
  readonly scenario?: string;
  readonly metrics: Metrics;
}

export interface RowSpec<V extends string> {
  readonly scenario?: string;
  readonly metric: string;
  readonly key: string;
  /** Which ratio is good for rwm: 'lower' (≤ 1), 'higher' (≥ 1), or just information. */
  readonly better: 'lower' | 'higher' | 'info';
  /** Counts and sizes, or differences near zero: a ratio says nothing. */
  readonly noRatio?: true;
  readonly digits?: number;
  /** Variants the metric does not apply to (shown as n/a, e.g. server CPU without a server). */
  readonly notFor?: readonly V[];
}

export interface SummaryRow<V extends string> extends RowSpec<V> {
  readonly values: Partial<Record<V, number>>;
  /** rwm / each other variant, in the order of the `vs` list. */
  readonly ratios: readonly (number | undefined)[];
}

/** Medians per variant and the ratios of `subject` to each variant in `vs`. */
export function summarize<V extends string>(runs: readonly VariantRun<V>[], specs: readonly RowSpec<V>[], variants: readonly V[], subject: V, vs: readonly V[]): SummaryRow<V>[] {
  return specs.map((spec) => {
    const values: Partial<Record<V, number>> = {};
    for (const v of variants) {
      const xs = runs.filter((r) => r.variant === v && r.scenario === spec.scenario).map((r) => r.metrics[spec.key]).filter((x) => x !== undefined);
      if (xs.length > 0) values[v] = median(xs);
    }
    return { ...spec, values, ratios: vs.map((b) => (spec.noRatio ? undefined : ratio(values[subject], values[b]))) };
  });
}

/** Columns: [scenario], metric, one per variant, subject/each of `vs`, and which way is good for the subject. */
export function renderSummary<V extends string>(rows: readonly SummaryRow<V>[], variants: readonly V[], subject: V, vs: readonly V[]): string {
  const withScenario = rows.some((r) => r.scenario !== undefined);
  const goal = { lower: 'ratio ≤ 1', higher: 'ratio ≥ 1', info: '' } as const;
  const header = [...(withScenario ? ['scenario'] : []), 'metric', ...variants, ...vs.map((b) => `${subject}/${b}`), `${subject} better if`];
  let last: string | undefined;
  const cells = rows.map((r) => {
    const na = (v: V): boolean => r.notFor?.includes(v) === true;
    const scenario = r.scenario === last ? '' : (r.scenario ?? '');
    last = r.scenario;
    return [
      ...(withScenario ? [scenario] : []),
      r.metric,
      ...variants.map((v) => (na(v) ? 'n/a' : fmt(r.values[v], r.digits ?? 2))),
      ...vs.map((b, i) => (na(b) || na(subject) ? 'n/a' : fmt(r.ratios[i]))),
      r.better === 'info' || r.noRatio ? '' : goal[r.better],
    ];
  });
  const first = withScenario ? 2 : 1;
  return renderTable(header, cells, (i) => i >= first && i < first + variants.length + vs.length);
}

/** Round r starts with the variant r places further along, so none always runs first (or last). */
export function rotated<V>(variants: readonly V[], round: number): V[] {
  const k = round % variants.length;
  return [...variants.slice(k), ...variants.slice(0, k)];
}
