// A strict reader of Prometheus' text exposition format (version 0.0.4), as node_exporter's textfile
// collector takes it: returns the problems found (none: it parses), plus promtool's naming rules that
// matter here (a gauge does not end in _total).
const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL}=${VALUE})(?:,${LABEL}=${VALUE})*,?)?\\})? (\\S+)(?: (-?[0-9]+))?$`);
const FLOAT = /^(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?Inf|NaN)$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export function parsePrometheusText(text: string): { problems: string[]; samples: Sample[] } {
  const problems: string[] = [];
  const samples: Sample[] = [];
  if (text !== '' && !text.endsWith('\n')) problems.push('the last line does not end with a newline');
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const series = new Set<string>();
  const done = new Set<string>(); // names whose samples are over (samples of a name are contiguous)
  let current: string | undefined;
  text.split('\n').slice(0, -1).forEach((line, i) => {
    const at = `line ${i + 1}: ${line}`;
    if (line.startsWith('#')) {
      const m = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`).exec(line);
      if (m === null) return void (/^# (HELP|TYPE)/.test(line) && problems.push(`${at}: malformed ${line.slice(2, 6)}`));
      const [, kind, name = '', rest = ''] = m;
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) problems.push(`${at}: unknown type`);
        if (types.has(name)) problems.push(`${at}: a second TYPE for ${name}`);
        if (series.has(name) || done.has(name)) problems.push(`${at}: TYPE after samples of ${name}`);
        types.set(name, rest);
        if (rest === 'gauge' && name.endsWith('_total')) problems.push(`${at}: a gauge named _total (promtool: non-counter metrics should not have "_total" suffix)`);
      } else {
        if (helps.has(name)) problems.push(`${at}: a second HELP for ${name}`);
        if (/\\(?![\\n])/.test(rest)) problems.push(`${at}: a bad escape in HELP`);
        helps.add(name);
      }
      return;
    }
    if (line === '') return; // empty lines are ignored (the format's spec)
    if (line.trim() === '') return void problems.push(`${at}: a line of blanks`);
    const m = SAMPLE.exec(line);
    if (m === null) return void problems.push(`${at}: not a sample`);
    const [, name = '', labelText = '', value = ''] = m;
    if (!FLOAT.test(value)) problems.push(`${at}: not a number: ${value}`);
    if (current !== name) {
      if (current !== undefined) done.add(current);
      if (done.has(name)) problems.push(`${at}: samples of ${name} are not together`);
      current = name;
    }
    const labels: Record<string, string> = {};
    for (const lm of labelText.matchAll(new RegExp(`(${LABEL})=(${VALUE})`, 'g'))) {
      const k = lm[1] ?? '';
      if (Object.hasOwn(labels, k)) problems.push(`${at}: label ${k} twice`);
      labels[k] = (JSON.parse((lm[2] ?? '""').replace(/\\n/g, '\\n')) as string);
    }
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(key)) problems.push(`${at}: a second sample of the same series`);
    series.add(key);
    samples.push({ name, labels, value: Number(value) });
  });
  return { problems, samples };
}
