// The maintenance pipeline: a list of typed steps run in order, each returning a report; the
// pipeline stops at the first step that fails or finds something, and the whole run is one report.

export type StepStatus = 'ok' | 'findings' | 'failed' | 'skipped';

export interface StepResult {
  readonly status: 'ok' | 'findings' | 'skipped';
  readonly details: Record<string, unknown>;
  readonly warnings?: string[];
}

export interface Step<C> {
  readonly name: string;
  run(ctx: C, signal: AbortSignal | undefined): Promise<StepResult>;
}

export interface StepReport {
  readonly name: string;
  readonly status: StepStatus;
  readonly durationMs: number;
  readonly details?: Record<string, unknown>;
  readonly warnings?: string[];
  readonly error?: string;
}

export interface PipelineReport {
  readonly job: string;
  readonly dryRun: boolean;
  readonly started: string;
  readonly finished: string;
  /** 'ok', 'findings' (a step found problems: the rest did not run), or 'failed' (a step could not run). */
  readonly result: 'ok' | 'findings' | 'failed';
  readonly steps: StepReport[];
}

export async function runPipeline<C>(job: string, dryRun: boolean, steps: readonly Step<C>[], ctx: C, o: { signal?: AbortSignal; onStep?: (r: StepReport) => void } = {}): Promise<PipelineReport> {
  const started = new Date().toISOString();
  const out: StepReport[] = [];
  let result: PipelineReport['result'] = 'ok';
  for (const step of steps) {
    if (result !== 'ok') {
      out.push({ name: step.name, status: 'skipped', durationMs: 0, details: { why: 'an earlier step did not pass' } });
      continue;
    }
    const t0 = Date.now();
    let r: StepReport;
    try {
      const s = await step.run(ctx, o.signal);
      r = { name: step.name, status: s.status, durationMs: Date.now() - t0, details: s.details, ...(s.warnings !== undefined && s.warnings.length > 0 ? { warnings: s.warnings } : {}) };
      if (s.status === 'findings') result = 'findings';
    } catch (err) {
      r = { name: step.name, status: 'failed', durationMs: Date.now() - t0, error: (err as Error).message };
      result = 'failed';
    }
    out.push(r);
    o.onStep?.(r);
  }
  return { job, dryRun, started, finished: new Date().toISOString(), result, steps: out };
}
