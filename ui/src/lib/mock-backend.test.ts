import { describe, expect, it } from "vitest";
import type { EventEnvelope, Problem } from "$lib/bindings";
import type { DeployRequest, SignInPrompt } from "./backend";
import { deployView, emptyRun, foldEvents } from "./deploy-view";
import { fakeClock, type FakeClock } from "./fake-clock";
import { defaultValues } from "./form";
import { MANIFEST, MockBackend, type MockStorage } from "./mock-backend";

const PRODUCTION = "5e4d3c2b-1a09-4f8e-8d7c-6b5a49381a2b";
const SANDBOX = "0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d";

function request(name: string, subscriptionId = PRODUCTION): DeployRequest {
  return {
    target: { subscriptionId, resourceGroup: "", location: "eastus" },
    values: { ...defaultValues(MANIFEST), name, mysqlAdminPassword: "S3cret!pass" },
    preset: null,
  };
}

function memoryStorage(): MockStorage {
  const items = new Map<string, string>();
  return {
    getItem: (k) => items.get(k) ?? null,
    setItem: (k, v) => items.set(k, v),
    removeItem: (k) => items.delete(k),
  };
}

async function demo(clock: FakeClock = fakeClock(), storage: MockStorage | null = null) {
  const backend = new MockBackend(clock, { speed: null, storage });
  await backend.startDemo({ speed: 40, failResource: null, resume: false });
  return { backend, clock };
}

/** Runs `action` while the fake clock runs its timers. */
async function settle<T>(clock: FakeClock, action: Promise<T>): Promise<T> {
  const [value] = await Promise.all([action, clock.flush()]);
  return value;
}

async function install(backend: MockBackend, clock: FakeClock, req: DeployRequest) {
  const events: EventEnvelope[] = [];
  const runId = await backend.deploy(req, (e) => events.push(e));
  await clock.flush();
  return { runId, events };
}

/** Drops a run's or a sign-in's messages. */
const ignore = (): void => undefined;

async function rejection(p: Promise<unknown>): Promise<Problem> {
  try {
    await p;
  } catch (e) {
    return e as Problem;
  }
  throw new Error("expected a rejection");
}

describe("mock sign-in", () => {
  it("shows the device code, then signs in", async () => {
    const clock = fakeClock();
    const backend = new MockBackend(clock, { speed: null, storage: null });
    const prompts: SignInPrompt[] = [];
    const session = await settle(
      clock,
      backend.signIn({ kind: "deviceCode", cloud: "AzureCloud", tenant: null }, (p) =>
        prompts.push(p),
      ),
    );
    expect(prompts).toEqual([
      expect.objectContaining({ kind: "deviceCode", userCode: "ABCD-EFGH" }),
    ]);
    expect(session).toMatchObject({ demo: false, method: "device code", unfinishedRuns: [] });
    expect(await backend.session()).toMatchObject({ who: session.who });
  });

  it("gives up a sign-in on cancel with code cancelled, and refuses a wrong secret", async () => {
    const clock = fakeClock();
    const backend = new MockBackend(clock, { speed: null, storage: null });
    const pending = backend.signIn({ kind: "browser", cloud: "AzureCloud", tenant: null }, ignore);
    await backend.cancelSignIn();
    expect((await rejection(pending)).code).toBe("cancelled");
    expect(await backend.session()).toBeNull();

    const wrong = backend.signIn(
      {
        kind: "servicePrincipal",
        cloud: "AzureCloud",
        tenantId: "3f1c5d2e-8a4b-4c6d-9e7f-0a1b2c3d4e5f",
        clientId: "11111111-2222-4333-8444-555555555555",
        clientSecret: "wrong",
      },
      ignore,
    );
    const p = await settle(clock, rejection(wrong));
    expect(p.code).toBe("Unauthorized");
    expect(p.remediation?.message).toMatch(/secret's value/);
  });
});

describe("mock preflight", () => {
  it("passes every check on the default path and predicts the early stages", async () => {
    const { backend, clock } = await demo();
    const report = await settle(clock, backend.preflight(request("acme")));
    expect(report.checks.filter((c) => c.status === "fail")).toEqual([]);
    expect(report.checks.find((c) => c.id === "quota")?.label).toBe("Regional vCPU quota");
    const whatIf = report.checks.filter((c) => c.whatIf != null);
    expect(whatIf.map((c) => c.id)).toEqual([
      "whatIf:network",
      "whatIf:monitoring",
      "whatIf:secrets",
    ]);
    expect(report.checks.find((c) => c.id === "whatIf:compute")?.status).toBe("skipped");
  });

  it("fails for unregistered providers in the sandbox until the fix registers them", async () => {
    const { backend, clock } = await demo();
    const req = request("acme", SANDBOX);
    const report = await settle(clock, backend.preflight(req));
    const providers = report.checks.find((c) => c.id === "providers");
    expect(providers?.status).toBe("fail");
    const action = providers?.fix?.action;
    expect(action).toEqual({
      kind: "registerProviders",
      args: ["Microsoft.ContainerService", "Microsoft.DBforMySQL"],
    });
    if (action == null) return;
    const fixed = await settle(clock, backend.applyFix(req, action));
    expect(fixed.checks.find((c) => c.id === "providers")?.status).toBe("pass");
  });
});

describe("mock instances", () => {
  it("lists an installed instance, finds the foreign one, and updates with a what-if", async () => {
    const { backend, clock } = await demo();
    const { runId } = await install(backend, clock, request("acme"));
    expect(await backend.instances(null, false)).toEqual([
      expect.objectContaining({
        name: "acme",
        resourceGroup: "rg-acme",
        state: "deployed",
        source: "journal",
        lastRunId: runId,
      }),
    ]);
    const found = await backend.instances(PRODUCTION, true);
    expect(found.map((v) => [v.name, v.source])).toEqual([
      ["acme", "both"],
      ["contoso01", "azure"],
    ]);

    const upd = await backend.updateRequest("acme");
    expect(upd.values.mysqlAdminPassword).toBeUndefined();
    expect(upd.target.resourceGroup).toBe("rg-acme");
    // Unchanged inputs: only the cluster moves (its autoscaled node count).
    const same = await settle(clock, backend.whatIf(upd));
    const modified = same.flatMap((s) => s.groups.filter((g) => g.changeType === "Modify"));
    expect(modified.flatMap((g) => g.resources.map((r) => r.name))).toEqual(["acme-aks"]);
    const bigger = { ...upd, values: { ...upd.values, userNodeMax: 8, mysqlStorageGb: 128 } };
    const diff = await settle(clock, backend.whatIf(bigger));
    const compute = diff.find((s) => s.stage === "compute");
    const aks = compute?.groups.find((g) => g.changeType === "Modify")?.resources[0];
    expect(aks?.changedProperties).toEqual(["properties.agentPoolProfiles[1].maxCount"]);
    expect(diff.find((s) => s.stage === "data")?.summary).toEqual(["1 to modify", "2 no change"]);

    const events: EventEnvelope[] = [];
    await backend.update(bigger, (e) => events.push(e));
    await clock.flush();
    expect(events[0]).toMatchObject({ event: "runStarted", data: { kind: "update" } });
    expect(events.at(-1)).toMatchObject({ data: { outcome: "succeeded" } });
    expect((await backend.updateRequest("acme")).values.userNodeMax).toBe(8);
  });

  it("tears down; without purge the vault name blocks a reinstall until it is purged", async () => {
    const { backend, clock } = await demo();
    await install(backend, clock, request("acme"));
    const events: EventEnvelope[] = [];
    await backend.teardown("acme", false, (e) => events.push(e));
    await clock.flush();
    const view = deployView(foldEvents(emptyRun(), events));
    expect(view.outcome).toBe("succeeded");
    expect(view.lanes.map((l) => l.rows.map((r) => r.type))).toEqual([
      ["Microsoft.Resources/resourceGroups"],
    ]);
    expect(
      events.some((e) => e.event === "notice" && e.data.message.includes("soft-deleted")),
    ).toBe(true);
    expect((await backend.instances(null, false))[0]?.state).toBe("deleted");

    const again = request("acme");
    const report = await settle(clock, backend.preflight(again));
    const vault = report.checks.find((c) => c.id === "vault:acme-kv");
    expect(vault?.status).toBe("fail");
    expect(vault?.fix?.action).toEqual({
      kind: "purgeDeletedVault",
      args: { name: "acme-kv", location: "eastus" },
    });
    if (vault?.fix?.action == null) return;
    const fixed = await settle(clock, backend.applyFix(again, vault.fix.action));
    expect(fixed.checks.filter((c) => c.status === "fail")).toEqual([]);
  });

  it("refuses a global name another instance holds, and saves files for a run", async () => {
    const { backend, clock } = await demo();
    const { runId } = await install(backend, clock, request("acme"));
    const elsewhere = {
      ...request("acme"),
      target: { ...request("acme").target, resourceGroup: "rg-other" },
    };
    const report = await settle(clock, backend.preflight(elsewhere));
    expect(report.checks.find((c) => c.label === "Global names")?.status).toBe("fail");
    expect((await settle(clock, backend.saveSummary(runId)))?.path).toMatch(
      /acme-install-summary\.md$/,
    );
    expect((await settle(clock, backend.saveSupportBundle(runId)))?.path).toMatch(/\.zip$/);
    expect((await rejection(backend.openUrl("http://acme"))).code).toBe("InvalidRequest");
  });
});

describe("mock across page loads", () => {
  it("a restarted app stops the demo and offers its unfinished run, which resume finishes", async () => {
    const storage = memoryStorage();
    const { backend, clock } = await demo(fakeClock(), storage);
    const runId = await backend.deploy(request("acme"), ignore);
    await clock.flush(8);

    const clock2 = fakeClock();
    const restarted = new MockBackend(clock2, { speed: null, storage, reloaded: false });
    expect(await restarted.session()).toBeNull();
    expect(await restarted.interruptedDemo()).toBe(runId);
    const session = await restarted.startDemo({ speed: 40, failResource: null, resume: true });
    expect(session.unfinishedRuns.map((r) => r.runId)).toEqual([runId]);
    expect(await restarted.attach(runId, 0, ignore)).toBe(false);
    const events: EventEnvelope[] = [];
    await restarted.resume(runId, (e) => events.push(e));
    await clock2.flush();
    const snapshot = await restarted.deploymentSnapshot(runId);
    expect(snapshot.outcome).toBe("succeeded");
    expect(snapshot.stages.some((s) => s.reattached)).toBe(true);
    expect(await restarted.interruptedDemo()).toBeNull();
  });

  it("a reloaded window finds the run still watched by the shell", async () => {
    const storage = memoryStorage();
    const { backend, clock } = await demo(fakeClock(), storage);
    const runId = await backend.deploy(request("acme"), ignore);
    await clock.flush(8);
    const before = await backend.deploymentSnapshot(runId);

    const clock2 = fakeClock();
    const reloaded = new MockBackend(clock2, { speed: null, storage, reloaded: true });
    expect((await reloaded.session())?.demo).toBe(true);
    expect(await reloaded.interruptedDemo()).toBeNull();
    const seen: EventEnvelope[] = [];
    expect(await reloaded.attach(runId, before.lastSeq, (e) => seen.push(e))).toBe(true);
    await clock2.flush();
    expect(seen[0]?.seq).toBe(before.lastSeq + 1);
    expect(seen.at(-1)).toMatchObject({ event: "runFinished", data: { outcome: "succeeded" } });
  });
  it("keeps a real sign-in across a restart, and its runs are not the interrupted demo", async () => {
    const storage = memoryStorage();
    const clock = fakeClock();
    const backend = new MockBackend(clock, { speed: null, storage });
    await settle(
      clock,
      backend.signIn({ kind: "azureCli", cloud: "AzureCloud", tenant: null }, ignore),
    );
    const runId = await backend.deploy(request("acme"), ignore);
    await clock.flush(8);

    const restarted = new MockBackend(fakeClock(), { speed: null, storage, reloaded: false });
    const session = await restarted.session();
    expect(session).toMatchObject({ demo: false, method: "Azure CLI" });
    expect(session?.unfinishedRuns.map((r) => [r.runId, r.state])).toEqual([[runId, "running"]]);
    expect(await restarted.interruptedDemo()).toBeNull();
  });
});
