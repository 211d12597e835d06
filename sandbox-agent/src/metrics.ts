// Prometheus metrics of the agent (text exposition format 0.0.4 at GET /metrics), for the same
// quantities the benchmarks measure: session start latency, keystroke echo, grading latency,
// sessions. A dependency-free registry: counters, gauges and histograms with fixed buckets.

type Labels = Record<string, string>;

const labelText = (labels: Labels): string => {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${labels[k]!.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
};

export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[],
  ) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) this.counts[i]!++;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((le, i) => lines.push(`${this.name}_bucket{le="${le}"} ${this.counts[i]}`));
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`, `${this.name}_sum ${this.sum}`, `${this.name}_count ${this.count}`);
    return lines.join('\n');
  }
}

export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const entry = this.values.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.values.set(key, entry);
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${labelText(labels)} ${value}`);
    return lines.join('\n');
  }
}

export class Gauge {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number,
  ) {}

  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, `${this.name} ${this.read()}`].join('\n');
  }
}

const secondsBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The agent's metrics. Gauges are bound by the agent at start (bindGauges). */
export const metrics = {
  sessionStart: new Histogram('nslab_session_start_seconds', 'Time to create a sandbox for a session (request to ready).', secondsBuckets),
  echo: new Histogram('nslab_echo_seconds', 'Keystroke to the next output byte of the same terminal (echo latency as the agent sees it).', secondsBuckets),
  grade: new Histogram('nslab_grade_seconds', 'One grading round: host-side snapshot, probes and checks.', secondsBuckets),
  snapshot: new Histogram('nslab_snapshot_seconds', 'Building one sandbox snapshot from the host side.', secondsBuckets),
  sessionsStarted: new Counter('nslab_sessions_started_total', 'Sessions (sandboxes) started.'),
  sessionsEnded: new Counter('nslab_sessions_ended_total', 'Sessions ended, by reason.'),
  startsRefused: new Counter('nslab_session_starts_refused_total', 'Session starts refused by admission control, by status.'),
  stepsPassed: new Counter('nslab_steps_passed_total', 'Steps that passed, by lab.'),
  snapshotProcesses: new Counter('nslab_snapshot_processes_total', 'Sandbox processes read by snapshots (through nsread).'),
  snapshotNsReused: new Counter(
    'nslab_snapshot_ns_reused_total',
    'Of those, processes whose namespace links nsread reused because they provably had not run since the last read.',
  ),
  inputDropped: new Counter('nslab_input_dropped_bytes_total', 'Input bytes dropped because the program on the terminal did not read them (queue full).'),
  gradingDeferred: new Counter('nslab_grading_deferred_total', 'Grading requests that waited for their sandbox\'s grading budget (back-off after costly rounds).'),
  tooMuchState: new Counter('nslab_grading_too_much_state_total', 'Grading rounds answered "too much state to check" (a sandbox over the grader\'s read limits).'),
  gauges: [] as Gauge[],
};

export function bindGauges(gauges: Gauge[]): void {
  metrics.gauges = gauges;
}

export function renderMetrics(): string {
  const parts = [
    metrics.sessionStart,
    metrics.echo,
    metrics.grade,
    metrics.snapshot,
    metrics.snapshotProcesses,
    metrics.snapshotNsReused,
    metrics.sessionsStarted,
    metrics.sessionsEnded,
    metrics.startsRefused,
    metrics.stepsPassed,
    metrics.inputDropped,
    metrics.gradingDeferred,
    metrics.tooMuchState,
    ...metrics.gauges,
  ].map((m) => m.render());
  return `${parts.join('\n')}\n`;
}
