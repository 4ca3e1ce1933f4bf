/**
 * The deploy screen's model: folds {@link EventEnvelope}s into a {@link RunSnapshot} exactly
 * as the engine's `RunSnapshot::apply` does (events at or below `lastSeq` are ignored, so a
 * re-delivered event after a reload changes nothing), and derives what the screen draws:
 * stage lanes, one row per resource on a shared time axis, and the overall progress.
 *
 * The engine can rebuild the same snapshot from its journal (`deploymentSnapshot`), so a
 * reloaded window starts from that snapshot and keeps folding live events on top.
 */
import type {
  DeploymentEvent,
  ErrorReport,
  EventEnvelope,
  Outcome,
  ResourceSnapshot,
  ResourceState,
  RunSnapshot,
  StageSnapshot,
  StageState,
} from "$lib/bindings";

/** Most notices a snapshot keeps (the engine keeps the same number). */
export const MAX_NOTICES = 50;

/** A run as the UI holds it: the snapshot, plus whether the tracker reports progress itself. */
export interface LiveRun {
  /** The snapshot, as the engine would build it from the same events. */
  snapshot: RunSnapshot;
  /** A `progress` event was seen: stop counting progress from the resources. */
  trackerProgress: boolean;
}

/** An empty run, before any event. */
export function emptyRun(): LiveRun {
  return {
    snapshot: {
      runId: "",
      instance: "",
      kind: null,
      target: { subscriptionId: "", resourceGroup: "", location: "" },
      resourceGroupId: null,
      startedAt: null,
      finishedAt: null,
      asOf: null,
      expectedSecs: 0,
      stages: [],
      progress: { done: 0, total: 0, elapsedSecs: 0, etaSecs: 0 },
      outcome: null,
      outputs: null,
      error: null,
      lastSeq: 0,
      notices: [],
    },
    trackerProgress: false,
  };
}

/** A run re-attached from a snapshot the backend rebuilt. */
export function fromSnapshot(snapshot: RunSnapshot): LiveRun {
  // A snapshot whose progress is not the count of finished resources came from the tracker.
  const counted = countResources(snapshot.stages);
  const trackerProgress =
    snapshot.progress.done !== counted.done || snapshot.progress.total !== counted.total;
  return { snapshot: structuredClone(snapshot), trackerProgress };
}

/**
 * Folds one event in. Returns the same object when the event was already seen (its `seq` is
 * not after `lastSeq`), a new one otherwise: callers compare by reference.
 */
export function applyEvent(run: LiveRun, envelope: EventEnvelope): LiveRun {
  if (envelope.seq <= run.snapshot.lastSeq) {
    return run;
  }
  const next: LiveRun = {
    snapshot: structuredClone(run.snapshot),
    trackerProgress: run.trackerProgress,
  };
  take(next, envelope);
  refresh(next);
  return next;
}

/** Folds a list of events, in `seq` order whatever order they come in. */
export function foldEvents(run: LiveRun, envelopes: readonly EventEnvelope[]): LiveRun {
  return [...envelopes].sort((a, b) => a.seq - b.seq).reduce(applyEvent, run);
}

function take(run: LiveRun, envelope: EventEnvelope): void {
  const s = run.snapshot;
  s.lastSeq = envelope.seq;
  const at = eventTime(envelope);
  if (at !== null && (s.asOf === null || secs(s.asOf) < secs(at))) {
    s.asOf = at;
  }
  if (s.outcome === "detached" && envelope.event !== "runFinished") {
    // A detached run that gets events again was resumed: it is running once more.
    s.outcome = null;
    s.finishedAt = null;
    s.error = null;
  }
  fold(run, envelope);
}

function eventTime(e: DeploymentEvent): string | null {
  return "at" in e.data ? e.data.at : null;
}

function fold(run: LiveRun, e: EventEnvelope): void {
  const s = run.snapshot;
  switch (e.event) {
    case "runStarted": {
      const d = e.data;
      s.runId = d.runId;
      s.instance = d.instance;
      s.kind = d.kind;
      s.target = {
        subscriptionId: d.subscriptionId,
        resourceGroup: d.resourceGroup,
        location: d.location,
      };
      s.expectedSecs = d.expectedSecs;
      s.startedAt = d.at;
      for (const summary of d.stages) {
        const stage = stageOf(s, summary.name);
        stage.label = summary.label;
        stage.dependsOn = [...summary.dependsOn];
        if (stage.deploymentName === "") {
          stage.deploymentName = summary.deploymentName;
        }
        stage.expectedSecs = summary.expectedSecs;
        for (const item of summary.resources) {
          const r = resourceOf(stage, item.resourceId);
          r.planned = true;
          if (r.resourceType === "") {
            r.resourceType = item.resourceType;
          }
          if (r.resourceName === "") {
            r.resourceName = item.resourceName;
          }
          if (r.state === "pending") {
            r.expectedSecs = item.expectedSecs;
          }
        }
      }
      break;
    }
    case "resourceGroupReady":
      s.resourceGroupId = e.data.resourceGroupId;
      break;
    case "stageStarted": {
      const d = e.data;
      const stage = stageOf(s, d.stage);
      stage.deploymentName = d.deploymentName;
      if (d.correlationId !== null) {
        stage.correlationId = d.correlationId;
      }
      stage.reattached = d.reattached;
      stage.state = "running";
      // A reattached deployment started when it was first submitted, not now.
      if (!d.reattached || stage.startedAt === null) {
        stage.startedAt = d.at;
      }
      stage.finishedAt = null;
      stage.elapsedSecs = null;
      stage.error = null;
      break;
    }
    case "resourceStarted": {
      const d = e.data;
      const r = resourceOf(stageOf(s, d.stage), d.resourceId);
      r.resourceType = d.resourceType;
      r.resourceName = d.resourceName;
      r.expectedSecs = d.expectedSecs;
      r.state = "running";
      r.startedAt = d.at;
      r.finishedAt = null;
      r.elapsedSecs = null;
      r.error = null;
      break;
    }
    case "resourceProgress": {
      const r = resourceOf(stageOf(s, e.data.stage), e.data.resourceId);
      if (r.state === "pending") {
        r.state = "running";
      }
      r.provisioningState = e.data.provisioningState;
      break;
    }
    case "resourceSucceeded": {
      const d = e.data;
      const r = resourceOf(stageOf(s, d.stage), d.resourceId);
      r.state = "succeeded";
      r.startedAt ??= startFrom(d.at, d.elapsedSecs);
      r.finishedAt = d.at;
      r.elapsedSecs = d.elapsedSecs;
      r.provisioningState = "Succeeded";
      r.error = null;
      break;
    }
    case "resourceFailed": {
      const d = e.data;
      const r = resourceOf(stageOf(s, d.stage), d.resourceId);
      if (r.resourceType === "") {
        r.resourceType = d.resourceType;
      }
      r.state = "failed";
      r.finishedAt = d.at;
      r.elapsedSecs = r.startedAt === null ? null : secsBetween(r.startedAt, d.at);
      r.provisioningState = "Failed";
      r.error = d.error;
      break;
    }
    case "stageSucceeded": {
      const d = e.data;
      const stage = stageOf(s, d.stage);
      stage.state = "succeeded";
      stage.startedAt ??= startFrom(d.at, d.elapsedSecs);
      stage.finishedAt = d.at;
      stage.elapsedSecs = d.elapsedSecs;
      stage.outputs = d.outputs;
      stage.error = null;
      break;
    }
    case "stageFailed": {
      const stage = stageOf(s, e.data.stage);
      stage.state = "failed";
      stage.finishedAt = e.data.at;
      stage.elapsedSecs = stage.startedAt === null ? null : secsBetween(stage.startedAt, e.data.at);
      stage.error = e.data.error;
      break;
    }
    case "stageCanceled": {
      const stage = stageOf(s, e.data.stage);
      stage.state = "canceled";
      stage.finishedAt = e.data.at;
      stage.elapsedSecs = stage.startedAt === null ? null : secsBetween(stage.startedAt, e.data.at);
      stage.error = null;
      break;
    }
    case "progress":
      run.trackerProgress = true;
      s.progress = { ...e.data };
      break;
    case "notice":
      s.notices.push({ seq: e.seq, message: e.data.message, at: e.data.at });
      if (s.notices.length > MAX_NOTICES) {
        s.notices.splice(0, s.notices.length - MAX_NOTICES);
      }
      break;
    case "runFinished": {
      const d = e.data;
      // Counted progress is frozen at the finish: count it as it stands now.
      refresh(run);
      s.outcome = d.outcome;
      s.outputs = d.outputs;
      s.error = d.error;
      s.finishedAt = d.at;
      s.progress.elapsedSecs = d.elapsedSecs;
      s.progress.etaSecs = 0;
      break;
    }
  }
}

function stageOf(s: RunSnapshot, name: string): StageSnapshot {
  let stage = s.stages.find((x) => x.name === name);
  if (stage === undefined) {
    stage = {
      name,
      label: name,
      dependsOn: [],
      deploymentName: "",
      correlationId: null,
      reattached: false,
      state: "pending",
      startedAt: null,
      finishedAt: null,
      elapsedSecs: null,
      expectedSecs: 0,
      outputs: null,
      error: null,
      resources: [],
    };
    s.stages.push(stage);
  }
  return stage;
}

function resourceOf(stage: StageSnapshot, resourceId: string): ResourceSnapshot {
  const key = resourceId.toLowerCase();
  let r = stage.resources.find((x) => x.resourceId.toLowerCase() === key);
  if (r === undefined) {
    r = {
      resourceId,
      resourceType: "",
      resourceName: "",
      planned: false,
      state: "pending",
      startedAt: null,
      finishedAt: null,
      elapsedSecs: null,
      expectedSecs: 0,
      provisioningState: null,
      error: null,
    };
    stage.resources.push(r);
  }
  return r;
}

function countResources(stages: readonly StageSnapshot[]): { done: number; total: number } {
  let done = 0;
  let total = 0;
  for (const stage of stages) {
    for (const r of stage.resources) {
      total += 1;
      if (r.state === "succeeded" || r.state === "failed") {
        done += 1;
      }
    }
  }
  return { done, total };
}

/** Recomputes running elapsed times and, until the tracker reports its own, the progress. */
function refresh(run: LiveRun): void {
  const s = run.snapshot;
  const asOf = s.asOf;
  for (const stage of s.stages) {
    if (stage.state === "running") {
      stage.elapsedSecs = runningElapsed(stage.startedAt, asOf);
    }
    for (const r of stage.resources) {
      if (r.state === "running") {
        r.elapsedSecs = runningElapsed(r.startedAt, asOf);
      }
    }
  }
  if (s.outcome !== null || run.trackerProgress) {
    return;
  }
  const { done, total } = countResources(s.stages);
  const elapsed = runningElapsed(s.startedAt, asOf) ?? 0;
  s.progress = {
    done,
    total,
    elapsedSecs: elapsed,
    etaSecs: Math.max(0, s.expectedSecs - elapsed),
  };
}

function secs(iso: string): number {
  return Date.parse(iso) / 1000;
}

function secsBetween(from: string, to: string): number {
  return Math.max(0, secs(to) - secs(from));
}

function runningElapsed(start: string | null, asOf: string | null): number | null {
  return start === null || asOf === null ? null : secsBetween(start, asOf);
}

function startFrom(at: string, elapsedSecs: number): string | null {
  const ms = Date.parse(at) - elapsedSecs * 1000;
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** One resource row of the deploy screen. */
export interface RowView {
  /** Full resource ID (stable key). */
  id: string;
  /** The resource's name. */
  name: string;
  /** The type's last segment (`storageAccounts`), full type in `type`. */
  shortType: string;
  /** `Microsoft.Storage/storageAccounts`. */
  type: string;
  /** Where it is. */
  state: ResourceState;
  /** Seconds so far (ticking while running), null before it starts. */
  elapsedSecs: number | null;
  /** Seconds it usually takes. */
  expectedSecs: number;
  /** Where its bar starts on the run's time axis, percent. */
  offsetPercent: number;
  /** Its bar's width, percent of the axis. */
  barPercent: number;
  /** The ghost bar (expected duration) width, percent of the axis. */
  ghostPercent: number;
  /** The failure and its fix, for a failed row. */
  error: ErrorReport | null;
}

/** One stage lane. */
export interface LaneView {
  /** Stage name (stable key). */
  name: string;
  /** Shown to people. */
  label: string;
  /** Where it is. */
  state: StageState;
  /** The lanes it waits for (their labels). */
  waitsFor: string[];
  /** Seconds so far or in all, null before it starts. */
  elapsedSecs: number | null;
  /** Seconds it usually takes. */
  expectedSecs: number;
  /** Its rows, in the order the run announced them. */
  rows: RowView[];
  /** The stage's own error when no resource row carries it (a failed submit). */
  error: ErrorReport | null;
}

/** The whole deploy screen. */
export interface DeployView {
  /** The lanes, in the run's stage order. */
  lanes: LaneView[];
  /** Resources finished. */
  done: number;
  /** Resources in the run. */
  total: number;
  /** Finished share, 0 to 100. */
  percent: number;
  /** Seconds since the run started. */
  elapsedSecs: number;
  /** Seconds still expected (0 once finished). */
  etaSecs: number;
  /** How it ended, null while running. */
  outcome: Outcome | null;
  /** The run's error when it did not succeed. */
  error: ErrorReport | null;
  /** Failed rows, for the summary above the lanes. */
  failed: number;
}

/**
 * What the deploy screen draws. `nowMs` (a wall clock) makes running bars and the ETA tick
 * between events; without it the view is as of the last event.
 */
export function deployView(run: LiveRun, nowMs?: number): DeployView {
  const s = run.snapshot;
  const finished = s.outcome !== null && s.outcome !== "detached";
  const asOfSecs = s.asOf === null ? null : secs(s.asOf);
  const nowSecs =
    nowMs === undefined || finished ? asOfSecs : Math.max(nowMs / 1000, asOfSecs ?? 0);
  const runStart = s.startedAt === null ? null : secs(s.startedAt);
  const tickedElapsed = (start: string | null, fallback: number | null): number | null =>
    start === null || nowSecs === null ? fallback : Math.max(0, nowSecs - secs(start));

  const drift = nowSecs !== null && asOfSecs !== null ? Math.max(0, nowSecs - asOfSecs) : 0;
  const elapsedSecs = finished ? s.progress.elapsedSecs : s.progress.elapsedSecs + drift;
  const etaSecs = finished ? 0 : Math.max(0, s.progress.etaSecs - drift);

  let axis = Math.max(s.expectedSecs, elapsedSecs, 1);
  const laid = s.stages.map((stage) =>
    stage.resources.map((r) => {
      const elapsed =
        r.state === "running" ? tickedElapsed(r.startedAt, r.elapsedSecs) : r.elapsedSecs;
      const offset =
        r.startedAt !== null && runStart !== null ? Math.max(0, secs(r.startedAt) - runStart) : 0;
      axis = Math.max(axis, offset + Math.max(elapsed ?? 0, r.expectedSecs));
      return { r, elapsed, offset };
    }),
  );
  const pct = (x: number): number => Math.min(100, (x / axis) * 100);
  const labels = new Map(s.stages.map((st) => [st.name, st.label]));

  let failed = 0;
  const lanes = s.stages.map((stage, i): LaneView => {
    const rows = (laid[i] ?? []).map(({ r, elapsed, offset }): RowView => {
      if (r.state === "failed") {
        failed += 1;
      }
      return {
        id: r.resourceId,
        name: r.resourceName,
        shortType: r.resourceType.split("/").pop() ?? r.resourceType,
        type: r.resourceType,
        state: r.state,
        elapsedSecs: elapsed,
        expectedSecs: r.expectedSecs,
        offsetPercent: pct(offset),
        barPercent: elapsed === null ? 0 : Math.min(pct(elapsed), 100 - pct(offset)),
        ghostPercent: Math.min(pct(r.expectedSecs), 100 - pct(offset)),
        error: r.error,
      };
    });
    const rowCarriesError = rows.some((row) => row.error !== null);
    return {
      name: stage.name,
      label: stage.label,
      state: stage.state,
      waitsFor: stage.dependsOn.map((d) => labels.get(d) ?? d),
      elapsedSecs:
        stage.state === "running"
          ? tickedElapsed(stage.startedAt, stage.elapsedSecs)
          : stage.elapsedSecs,
      expectedSecs: stage.expectedSecs,
      rows,
      error: rowCarriesError ? null : stage.error,
    };
  });

  const { done, total } = s.progress;
  return {
    lanes,
    done,
    total,
    percent: total === 0 ? 0 : Math.round((done / total) * 100),
    elapsedSecs,
    etaSecs,
    outcome: s.outcome,
    error: s.error,
    failed,
  };
}

/** Seconds as people read them: `45 s`, `3 min 05 s`, `1 h 02 min`. */
export function formatDuration(totalSecs: number): string {
  const t = Math.max(0, Math.round(totalSecs));
  if (t < 60) {
    return `${t} s`;
  }
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  if (h > 0) {
    return `${h} h ${String(m).padStart(2, "0")} min`;
  }
  return `${m} min ${String(sec).padStart(2, "0")} s`;
}
