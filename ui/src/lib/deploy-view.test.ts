import { describe, expect, it } from "vitest";
import type { EventEnvelope } from "$lib/bindings";
import {
  applyEvent,
  deployView,
  emptyRun,
  foldEvents,
  formatDuration,
  fromSnapshot,
} from "./deploy-view";
import { fakeClock } from "./fake-clock";
import { MockBackend } from "./mock-backend";
import type { DeployRequest } from "./backend";
import { defaultValues } from "./form";
import { MANIFEST } from "./mock-backend";

const request: DeployRequest = {
  target: { subscriptionId: "sub", resourceGroup: "rg-acme", location: "eastus" },
  values: { ...defaultValues(MANIFEST), name: "acme" },
  preset: "small",
};

async function demoRun(failResource: string | null) {
  const clock = fakeClock();
  const backend = new MockBackend(clock);
  await backend.startDemo({ speed: 1, failResource, resume: false });
  const events: EventEnvelope[] = [];
  const runId = await backend.deploy(request, (e) => events.push(e));
  await clock.flush();
  return { backend, clock, events, runId };
}

const at = "2025-06-01T10:00:00Z";
const started: EventEnvelope = {
  seq: 1,
  event: "runStarted",
  data: {
    runId: "r1",
    instance: "acme",
    kind: "install",
    subscriptionId: "sub",
    resourceGroup: "rg",
    location: "eastus",
    expectedSecs: 100,
    at,
    stages: [
      {
        name: "network",
        label: "Network",
        dependsOn: [],
        deploymentName: "d-network",
        expectedSecs: 20,
        resources: [
          {
            resourceId: "/x/vnet",
            resourceType: "Microsoft.Network/virtualNetworks",
            resourceName: "vnet",
            expectedSecs: 20,
          },
        ],
      },
      {
        name: "data",
        label: "Data",
        dependsOn: ["network"],
        deploymentName: "d-data",
        expectedSecs: 80,
        resources: [],
      },
    ],
  },
};

describe("deploy view reducer", () => {
  it("plans lanes and rows from runStarted and counts progress from the resources", () => {
    const run = applyEvent(emptyRun(), started);
    const view = deployView(run);
    expect(view.lanes.map((l) => l.label)).toEqual(["Network", "Data"]);
    expect(view.lanes[1]?.waitsFor).toEqual(["Network"]);
    expect(view.lanes[0]?.rows[0]).toMatchObject({
      name: "vnet",
      shortType: "virtualNetworks",
      state: "pending",
      ghostPercent: 20,
    });
    expect(view).toMatchObject({ done: 0, total: 1, percent: 0, etaSecs: 100 });
  });

  it("ignores re-delivered events by seq and ticks running rows with the wall clock", () => {
    const res: EventEnvelope = {
      seq: 2,
      event: "resourceStarted",
      data: {
        stage: "network",
        resourceId: "/X/VNET",
        resourceType: "Microsoft.Network/virtualNetworks",
        resourceName: "vnet",
        expectedSecs: 20,
        at: "2025-06-01T10:00:05Z",
      },
    };
    const a = applyEvent(applyEvent(emptyRun(), started), res);
    expect(applyEvent(a, res)).toBe(a);
    expect(applyEvent(a, started)).toBe(a);
    expect(a.snapshot.stages[0]?.resources).toHaveLength(1);
    const view = deployView(a, Date.parse("2025-06-01T10:00:15Z"));
    expect(view.lanes[0]?.rows[0]).toMatchObject({
      state: "running",
      elapsedSecs: 10,
      offsetPercent: 5,
      barPercent: 10,
    });
    expect(view.etaSecs).toBe(85);
  });

  it("folds events given out of order exactly like in order", () => {
    const more: EventEnvelope[] = [
      {
        seq: 3,
        event: "resourceSucceeded",
        data: {
          stage: "network",
          resourceId: "/x/vnet",
          elapsedSecs: 12,
          at: "2025-06-01T10:00:12Z",
        },
      },
      {
        seq: 2,
        event: "stageStarted",
        data: {
          stage: "network",
          deploymentName: "d-network",
          correlationId: "c",
          reattached: false,
          at,
        },
      },
    ];
    const ordered = foldEvents(emptyRun(), [started, ...more]);
    const shuffled = foldEvents(
      emptyRun(),
      [more[0], started, more[1]].filter((e) => e !== undefined),
    );
    expect(shuffled).toEqual(ordered);
    expect(deployView(ordered)).toMatchObject({ done: 1, total: 1, percent: 100 });
  });
});

describe("mock demo deploy", () => {
  it("runs six stages with strictly increasing seq, network, monitoring and secrets in parallel", async () => {
    const { events } = await demoRun(null);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]?.event).toBe("runStarted");
    expect(events.at(-1)).toMatchObject({ event: "runFinished", data: { outcome: "succeeded" } });
    const stageStarts = events.filter((e) => e.event === "stageStarted").map((e) => e.data.stage);
    expect(stageStarts.slice(0, 3).sort()).toEqual(["monitoring", "network", "secrets"]);
    expect(stageStarts.slice(3)).toEqual(["data", "compute", "outputs"]);
    // The parallel stages all started before any of them finished.
    const firstStageDone = events.findIndex((e) => e.event === "stageSucceeded");
    const thirdStart = events.filter((e) => e.event === "stageStarted")[2];
    expect(thirdStart?.seq).toBeLessThan(events[firstStageDone]?.seq ?? 0);
    const view = deployView(foldEvents(emptyRun(), events));
    expect(view).toMatchObject({ outcome: "succeeded", percent: 100, etaSecs: 0, failed: 0 });
    expect(view.lanes.every((l) => l.state === "succeeded")).toBe(true);
  });

  it("fails the chosen resource with its fix, stops dependants, and the retry succeeds", async () => {
    const { backend, clock, events, runId } = await demoRun("acme-aks");
    const view = deployView(foldEvents(emptyRun(), events));
    expect(view.outcome).toBe("failed");
    const compute = view.lanes.find((l) => l.name === "compute");
    const aks = compute?.rows.find((r) => r.name === "acme-aks");
    expect(aks?.state).toBe("failed");
    expect(aks?.error?.code).toBe("QuotaExceeded");
    expect(aks?.error?.remediation?.message).toMatch(/Request 12 more/);
    expect(view.lanes.find((l) => l.name === "outputs")?.state).toBe("pending");

    const retried: EventEnvelope[] = [];
    const retryId = await backend.retry(runId, (e) => retried.push(e));
    await clock.flush();
    expect(retryId).not.toBe(runId);
    const after = deployView(foldEvents(emptyRun(), retried));
    expect(after.outcome).toBe("succeeded");
    expect(after.lanes.map((l) => l.name)).toEqual(["compute", "outputs"]);
  });

  it("rebuilds the same view from the journal after a reload and re-attaches without repeats", async () => {
    const clock = fakeClock();
    const backend = new MockBackend(clock);
    await backend.startDemo({ speed: 1, failResource: null, resume: false });
    const live: EventEnvelope[] = [];
    const runId = await backend.deploy(request, (e) => live.push(e));
    // Part-way: the window reloads; its Channel is gone.
    await clock.flush(8);
    const snapshot = await backend.deploymentSnapshot(runId);
    let run = fromSnapshot(snapshot);
    expect(snapshot.stages.some((s) => s.state === "running")).toBe(true);
    expect(run.snapshot).toEqual(foldEvents(emptyRun(), live).snapshot);
    const seen: number[] = [];
    await backend.attach(runId, 0, (e) => {
      seen.push(e.seq);
      run = applyEvent(run, e);
    });
    await clock.flush();
    expect(run.snapshot.outcome).toBe("succeeded");
    expect(run.snapshot.lastSeq).toBe(seen.at(-1));
  });

  it("stop watching detaches; cancel in Azure cancels running stages", async () => {
    const clock = fakeClock();
    const backend = new MockBackend(clock);
    await backend.startDemo({ speed: 1, failResource: null, resume: false });
    const events: EventEnvelope[] = [];
    const runId = await backend.deploy(request, (e) => events.push(e));
    await clock.flush(8);
    await backend.cancel(runId, true);
    await clock.flush();
    const view = deployView(foldEvents(emptyRun(), events));
    expect(view.outcome).toBe("canceled");
    expect(view.lanes.some((l) => l.state === "canceled")).toBe(true);
    expect(view.lanes.find((l) => l.name === "compute")?.state).toBe("pending");

    const second: EventEnvelope[] = [];
    const id2 = await backend.deploy(request, (e) => second.push(e));
    await backend.cancel(id2, false);
    expect(second.at(-1)).toMatchObject({ event: "runFinished", data: { outcome: "detached" } });
    const count = second.length;
    await clock.flush();
    expect(second).toHaveLength(count);
    const resumed: EventEnvelope[] = [];
    await backend.resume(id2, (e) => resumed.push(e));
    expect(resumed.at(-1)).toMatchObject({ event: "runFinished", data: { outcome: "succeeded" } });
    const all = foldEvents(emptyRun(), [...second, ...resumed]);
    expect(all.snapshot.outcome).toBe("succeeded");
  });
});

describe("durations", () => {
  it("reads like a person would say it", () => {
    expect(formatDuration(45.4)).toBe("45 s");
    expect(formatDuration(185)).toBe("3 min 05 s");
    expect(formatDuration(3720)).toBe("1 h 02 min");
  });
});
