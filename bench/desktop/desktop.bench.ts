/**
 * The measuring half of scripts/bench-desktop (which builds both apps and starts Xvfb and
 * tauri-driver): time to first screen, idle memory and, with BENCH_DEPLOY=1, memory while the
 * demo deploys, for Landfall and the hello-world Tauri app, through the same WebDriver path.
 * It speaks to tauri-driver with the e2e suite's client (ui/e2e/webdriver.ts) and drives the demo
 * with its driver and screen names (ui/e2e/webdriver-driver.ts, ui/e2e/journeys.ts).
 *
 * Run by vitest (globals on, see vitest.config.mjs) only because that is what runs TypeScript
 * here; it is one long "test" that writes results.json and results.md into BENCH_OUT.
 *
 * - First screen: from the new-session request (tauri-driver starts the app) to the first
 *   element being present, found with a WebDriver implicit wait: Landfall's button
 *   "Try the demo", the hello app's `main` element. Median of BENCH_RUNS sessions per app,
 *   alternating apps, after one unrecorded warm-up session of each.
 * - Idle memory: 10 s after the first screen of the first BENCH_IDLE_RUNS sessions, the PSS
 *   (`/proc/PID/smaps_rollup`) of the app process and every process below it (WebKit's web and
 *   network processes). Median of the sums.
 * - Demo deploy (Landfall): "Try the demo", the wizard's screens (pressing the review screen's
 *   fix buttons when a check fails), Deploy; PSS once just before the click, then every second
 *   from the click until the done screen (or "See the endpoints"); peak and mean.
 */
import { execSync } from "node:child_process";
import {
  existsSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  statSync,
} from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { UI } from "../../ui/e2e/journeys";
import { ELEMENT_KEY, Session, command } from "../../ui/e2e/webdriver";
import {
  WebDriverDriver,
  tauriCapabilities,
} from "../../ui/e2e/webdriver-driver";

/** A required environment variable. */
function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(
      `${name} is not set: run this through scripts/bench-desktop.`,
    );
  }
  return value;
}

const SERVER = env("BENCH_DRIVER_URL");
const DRIVER_PID = Number(env("BENCH_DRIVER_PID"));
const OUT = env("BENCH_OUT");
const RUNS = Number(process.env.BENCH_RUNS ?? "5");
const IDLE_RUNS = Number(process.env.BENCH_IDLE_RUNS ?? "3");
const DEPLOY = process.env.BENCH_DEPLOY !== "0";
const IDLE_WAIT_MS = 10_000;
/** At LANDFALL_DEMO_SPEED=40 the bundled instance deploys in about 15 s of simulated work. */
const DEPLOY_TIMEOUT_MS = 600_000;

/** One app under test. */
interface App {
  key: "hello" | "landfall";
  label: string;
  binary: string;
  deb: string;
  /** How the first screen is recognised. */
  first: { using: "css selector" | "xpath"; value: string; describe: string };
}

const APPS: App[] = [
  {
    key: "hello",
    label: "hello-world (create-tauri-app, vanilla)",
    binary: env("BENCH_HELLO_BIN"),
    deb: env("BENCH_HELLO_DEB"),
    first: {
      using: "css selector",
      value: "main",
      describe: "the `main` element",
    },
  },
  {
    key: "landfall",
    label: "Landfall",
    binary: env("BENCH_LANDFALL_BIN"),
    deb: env("BENCH_LANDFALL_DEB"),
    first: {
      using: "xpath",
      value: `//main//button[normalize-space(.)=${JSON.stringify(UI.welcome.tryDemo)}]`,
      describe: `the button "${UI.welcome.tryDemo}"`,
    },
  },
];

// --- processes and memory ----------------------------------------------------------------------

/** Parent PID of every live process. */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // The command name sits in parentheses and may hold spaces: the fields start after ")".
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      map.set(Number(name), Number(fields[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  return map;
}

/** Every process below `pid` (children, their children...). */
function descendants(pid: number): number[] {
  const tree = parents();
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift() as number;
    for (const [child, parent] of tree) {
      if (parent === p) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

function exeOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return null;
  }
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "?";
  }
}

/** The app's process: the one below tauri-driver running `binary` (waits up to 10 s). */
async function appPid(binary: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const pid = descendants(DRIVER_PID).find((p) => exeOf(p) === binary);
    if (pid !== undefined) return pid;
    await sleep(100);
  }
  throw new Error(
    `No process runs ${binary} below tauri-driver (PID ${DRIVER_PID}).`,
  );
}

/** One process's proportional and resident set sizes in KiB. */
function rollup(pid: number): { pss: number; rss: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    const field = (name: string): number =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
    return { pss: field("Pss"), rss: field("Rss") };
  } catch {
    return null;
  }
}

/**
 * PSS of the app and its processes, in KiB: the sum and each process by name; the RSS sum
 * beside it; and how many other WebKit web processes ran on the machine then (they share
 * WebKit's pages, which lowers everyone's PSS: another person's end-to-end run does that).
 */
interface MemorySample {
  totalKiB: number;
  rssKiB: number;
  otherWebProcesses: number;
  processes: { pid: number; name: string; pssKiB: number; rssKiB: number }[];
}

function memory(pid: number): MemorySample {
  const processes = [];
  const ours = [pid, ...descendants(pid)];
  for (const p of ours) {
    const r = rollup(p);
    if (r !== null)
      processes.push({ pid: p, name: commOf(p), pssKiB: r.pss, rssKiB: r.rss });
  }
  const otherWebProcesses = [...parents().keys()].filter(
    (p) => !ours.includes(p) && commOf(p).startsWith("WebKitWebProces"),
  ).length;
  return {
    totalKiB: processes.reduce((s, p) => s + p.pssKiB, 0),
    rssKiB: processes.reduce((s, p) => s + p.rssKiB, 0),
    otherWebProcesses,
    processes,
  };
}

// --- sessions ----------------------------------------------------------------------------------

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `pid` has exited (the session's end closes the app), up to 10 s. */
async function gone(pid: number): Promise<void> {
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await sleep(100);
}

interface Run {
  app: App["key"];
  firstScreenMs: number;
  idle?: MemorySample;
}

/** One session: the time to the first screen and, when asked, the idle memory 10 s later. */
async function firstScreen(app: App, withIdle: boolean): Promise<Run> {
  const start = performance.now();
  const session = await Session.create(SERVER, tauriCapabilities(app.binary));
  try {
    // The remote end keeps looking for up to 30 s: the answer comes as soon as it is there.
    await command(SERVER, "POST", `/session/${session.id}/timeouts`, {
      implicit: 30_000,
    });
    const found = (await command(
      SERVER,
      "POST",
      `/session/${session.id}/element`,
      {
        using: app.first.using,
        value: app.first.value,
      },
    )) as Record<string, unknown> | null;
    const firstScreenMs = performance.now() - start;
    if (typeof found?.[ELEMENT_KEY] !== "string") {
      throw new Error(
        `${app.label}: no ${app.first.describe} (${JSON.stringify(found)})`,
      );
    }
    const run: Run = { app: app.key, firstScreenMs };
    if (withIdle) {
      const pid = await appPid(app.binary);
      await sleep(
        Math.max(0, IDLE_WAIT_MS - (performance.now() - start - firstScreenMs)),
      );
      run.idle = memory(pid);
    }
    return run;
  } finally {
    const pid = await appPid(app.binary).catch(() => null);
    await session.delete();
    if (pid !== null) await gone(pid);
  }
}

/** The review screen's fix buttons (src/App.svelte's top comment lists them). */
const FIXES = [/^Register \S/, /^Purge the deleted Key Vault \S/];

interface DeploySample {
  atMs: number;
  totalKiB: number;
  rssKiB: number;
  otherWebProcesses: number;
}

/** The demo through the wizard to Deploy, sampling PSS every second until the done screen. */
async function deployDemo(app: App): Promise<{
  samples: DeploySample[];
  processes: MemorySample["processes"];
  deployMs: number;
  beforeDeployKiB: number;
  screens: { screen: string; totalKiB: number }[];
}> {
  const d = new WebDriverDriver({
    server: SERVER,
    capabilities: tauriCapabilities(app.binary),
    screenshotDir: join(OUT, "screenshots"),
    restart: "session",
  });
  const name = "benchdemo";
  await d.open();
  try {
    const pid = await appPid(app.binary);
    // PSS as each screen is ready: where the memory goes on the way to Deploy.
    const screens: { screen: string; totalKiB: number }[] = [];
    const at = (screen: string): void => {
      screens.push({ screen, totalKiB: memory(pid).totalKiB });
    };
    // The same steps as the e2e demo journey (ui/e2e/journeys.ts), without its screenshots.
    await d.waitFor("heading", UI.welcome.heading);
    at("welcome");
    await d.check(UI.welcome.failureDemo, false);
    await d.click("button", UI.welcome.tryDemo);
    await d.waitFor("heading", UI.signIn.heading);
    await d.waitForText(UI.signIn.demoSignedIn);
    at("sign-in");
    await d.click("button", UI.signIn.next);
    await d.waitFor("heading", UI.subscription.heading);
    await d.waitForText(UI.subscription.loaded);
    at("subscription");
    await d.click("button", UI.subscription.next);
    await d.waitFor("heading", UI.basics.heading);
    await d.fill(UI.basics.name, name);
    await d.waitForText(UI.basics.resourceGroup(name));
    at("basics");
    await d.click("button", UI.basics.next);
    await d.waitFor("heading", UI.sizing.heading);
    await d.waitForText(UI.sizing.cost);
    at("sizing");
    await d.click("button", UI.sizing.next);
    await d.waitFor("heading", UI.review.heading);
    await d.waitForText(UI.review.checked, { timeoutMs: 30_000 });
    // The demo subscription may start with a check that its own button fixes (providers not
    // registered, a deleted Key Vault holding the name): press it as a person would.
    for (const fix of FIXES) {
      if (await d.has("button", fix)) {
        await d.click("button", fix);
      }
    }

    const samples: DeploySample[] = [];
    const before = memory(pid);
    screens.push({ screen: "review", totalKiB: before.totalKiB });
    let last = before;
    // Enabled once every check passes (a fix above re-runs them).
    await d.click("button", UI.review.deploy, { timeoutMs: 120_000 });
    const start = performance.now();
    await d.waitFor("heading", UI.deploy.heading(name));
    // One sample and one look at the page a second: the page is read once a second only, so
    // the driver adds as little work to the web process as it can.
    for (;;) {
      const tick = performance.now();
      last = memory(pid);
      samples.push({
        atMs: tick - start,
        totalKiB: last.totalKiB,
        rssKiB: last.rssKiB,
        otherWebProcesses: last.otherWebProcesses,
      });
      const page = await d.text();
      if (
        page.includes(UI.done.heading(name)) ||
        page.includes(UI.deploy.toDone)
      )
        break;
      if (page.includes(UI.deploy.retry))
        throw new Error(`The demo deploy failed:\n${page}`);
      if (tick - start > DEPLOY_TIMEOUT_MS) {
        throw new Error(
          `The demo deploy did not end within ${DEPLOY_TIMEOUT_MS / 1000} s.`,
        );
      }
      await sleep(Math.max(0, 1000 - (performance.now() - tick)));
    }
    return {
      samples,
      processes: last.processes,
      deployMs: performance.now() - start,
      beforeDeployKiB: before.totalKiB,
      screens: [
        ...screens,
        { screen: "deploy ended", totalKiB: last.totalKiB },
      ],
    };
  } catch (e) {
    await d.screenshot("deploy-failed").catch(() => undefined);
    throw e;
  } finally {
    const pid = await appPid(app.binary).catch(() => null);
    await d.close();
    if (pid !== null) await gone(pid);
  }
}

// --- figures -----------------------------------------------------------------------------------

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1
    ? (s[mid] as number)
    : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const mib = (kib: number): string => (kib / 1024).toFixed(1);
const mb = (bytes: number): string => (bytes / 1e6).toFixed(2);
const ratio = (a: number, b: number): string => (a / b).toFixed(2);
const sh = (cmd: string): string => execSync(cmd, { encoding: "utf8" }).trim();

test("desktop app next to a hello-world Tauri app", async () => {
  await command(SERVER, "GET", "/status", undefined, 5_000);
  const started = new Date();
  const sizes = Object.fromEntries(
    APPS.map((a) => [
      a.key,
      { binary: statSync(a.binary).size, deb: statSync(a.deb).size },
    ]),
  ) as Record<App["key"], { binary: number; deb: number }>;

  // Warm-up: the first start after a build reads the binary and WebKit from disk.
  for (const app of APPS) await firstScreen(app, false);
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    const order = i % 2 === 0 ? APPS : [...APPS].reverse();
    for (const app of order) {
      const run = await firstScreen(app, i < IDLE_RUNS);
      console.log(
        `${app.key} run ${i + 1}: first screen ${run.firstScreenMs.toFixed(0)} ms` +
          (run.idle ? `, idle PSS ${mib(run.idle.totalKiB)} MiB` : ""),
      );
      runs.push(run);
    }
  }
  for (let i = RUNS; i < IDLE_RUNS; i++) {
    for (const app of APPS) runs.push(await firstScreen(app, true));
  }

  const of = (key: App["key"]) => runs.filter((r) => r.app === key);
  const summary = Object.fromEntries(
    APPS.map((a) => {
      const rs = of(a.key);
      const idle = rs.flatMap((r) => (r.idle ? [r.idle] : []));
      const idleMedian = median(idle.map((m) => m.totalKiB));
      // The run whose sum is nearest the median stands for the breakdown by process.
      const typical = idle.reduce((best, m) =>
        Math.abs(m.totalKiB - idleMedian) < Math.abs(best.totalKiB - idleMedian)
          ? m
          : best,
      );
      return [
        a.key,
        {
          firstScreenMs: rs.map((r) => Math.round(r.firstScreenMs)),
          firstScreenMedianMs: Math.round(
            median(rs.map((r) => r.firstScreenMs)),
          ),
          idleKiB: idle.map((m) => m.totalKiB),
          idleMedianKiB: idleMedian,
          idleBreakdown: typical.processes,
        },
      ];
    }),
  ) as Record<
    App["key"],
    {
      firstScreenMs: number[];
      firstScreenMedianMs: number;
      idleKiB: number[];
      idleMedianKiB: number;
      idleBreakdown: MemorySample["processes"];
    }
  >;

  const landfall = APPS[1] as App;
  const deploy = DEPLOY ? await deployDemo(landfall) : null;
  const finished = new Date();

  const machine = {
    nproc: sh("nproc"),
    memory:
      sh("free -h | awk '/^Mem:/ {print $2}'") +
      " total, swap " +
      sh("free -h | awk '/^Swap:/ {print $2}'"),
    os: sh("uname -srvmo"),
    distribution: sh('. /etc/os-release && echo "$PRETTY_NAME"'),
    webkitgtk: sh("dpkg-query -W -f='${Version}' libwebkit2gtk-4.1-0"),
    loadAverage: sh("cut -d' ' -f1-3 /proc/loadavg"),
    started: started.toISOString(),
    finished: finished.toISOString(),
  };
  const results = {
    machine,
    sizes,
    runs,
    summary,
    deploy,
    env: { runs: RUNS, idleRuns: IDLE_RUNS },
  };
  await mkdir(OUT, { recursive: true });

  const h = summary.hello;
  const l = summary.landfall;
  const rssMedian = (key: App["key"]): number =>
    median(of(key).flatMap((r) => (r.idle ? [r.idle.rssKiB] : [])));
  const others = runs.flatMap((r) =>
    r.idle ? [r.idle.otherWebProcesses] : [],
  );
  const row = (what: string, hello: string, land: string, r: string): string =>
    `| ${what} | ${hello} | ${land} | ${r} |`;
  const lines = [
    row("", "hello-world", "Landfall", "Landfall / hello-world (aim ≤ 1.2)"),
    "|---|---:|---:|---:|",
    row(
      "release binary",
      `${mb(sizes.hello.binary)} MB (${sizes.hello.binary} B)`,
      `${mb(sizes.landfall.binary)} MB (${sizes.landfall.binary} B)`,
      `**${ratio(sizes.landfall.binary, sizes.hello.binary)}**`,
    ),
    row(
      ".deb",
      `${mb(sizes.hello.deb)} MB (${sizes.hello.deb} B)`,
      `${mb(sizes.landfall.deb)} MB (${sizes.landfall.deb} B)`,
      `**${ratio(sizes.landfall.deb, sizes.hello.deb)}**`,
    ),
    row(
      `time to first screen (median of ${RUNS})`,
      `${h.firstScreenMedianMs} ms`,
      `${l.firstScreenMedianMs} ms`,
      `**${ratio(l.firstScreenMedianMs, h.firstScreenMedianMs)}**`,
    ),
    row(
      `idle PSS, app + WebKit processes (median of ${IDLE_RUNS})`,
      `${mib(h.idleMedianKiB)} MiB`,
      `${mib(l.idleMedianKiB)} MiB`,
      `**${ratio(l.idleMedianKiB, h.idleMedianKiB)}**`,
    ),
    row(
      "idle RSS, same processes, for comparison (median)",
      `${mib(rssMedian("hello"))} MiB`,
      `${mib(rssMedian("landfall"))} MiB`,
      ratio(rssMedian("landfall"), rssMedian("hello")),
    ),
  ];
  let deploySummary = null;
  if (deploy !== null) {
    const totals = deploy.samples.map((s) => s.totalKiB);
    const peak = Math.max(...totals);
    const mean = totals.reduce((s, v) => s + v, 0) / totals.length;
    deploySummary = { peakKiB: peak, meanKiB: mean, samples: totals.length };
    lines.push(
      row(
        "PSS on the review screen, just before Deploy",
        "",
        `${mib(deploy.beforeDeployKiB)} MiB`,
        `${ratio(deploy.beforeDeployKiB, h.idleMedianKiB)} (${ratio(deploy.beforeDeployKiB, l.idleMedianKiB)} × its own idle)`,
      ),
    );
    const during = `during the demo deploy (${totals.length} samples over ${(deploy.deployMs / 1000).toFixed(0)} s)`;
    lines.push(
      row(
        `PSS ${during}: peak`,
        `idle ${mib(h.idleMedianKiB)} MiB`,
        `${mib(peak)} MiB`,
        `**${ratio(peak, h.idleMedianKiB)}** (${ratio(peak, l.idleMedianKiB)} × its own idle)`,
      ),
      row(
        `PSS ${during}: mean`,
        `idle ${mib(h.idleMedianKiB)} MiB`,
        `${mib(mean)} MiB`,
        `**${ratio(mean, h.idleMedianKiB)}** (${ratio(mean, l.idleMedianKiB)} × its own idle)`,
      ),
    );
  }
  const breakdown = (ps: MemorySample["processes"]): string =>
    ps
      .map((p) => `${p.name} ${mib(p.pssKiB)} (RSS ${mib(p.rssKiB)})`)
      .join(", ");
  lines.push("", "Each run:", "");
  for (const a of APPS) {
    const s = summary[a.key];
    lines.push(
      `- ${a.key}: first screen ${s.firstScreenMs.join(", ")} ms; idle PSS ` +
        `${s.idleKiB.map(mib).join(", ")} MiB; by process (MiB, run nearest the median): ` +
        breakdown(s.idleBreakdown),
    );
  }
  if (deploy !== null) {
    lines.push(
      `- landfall during the deploy: PSS every second ${deploy.samples.map((x) => mib(x.totalKiB)).join(", ")} MiB; ` +
        `by process at the last sample: ${breakdown(deploy.processes)}`,
      `- landfall on the way (PSS as each screen is ready, MiB): ` +
        deploy.screens.map((x) => `${x.screen} ${mib(x.totalKiB)}`).join(", "),
    );
  }
  const otherDuringDeploy =
    deploy?.samples.map((x) => x.otherWebProcesses) ?? [];
  lines.push(
    "",
    `Other WebKit web processes on the machine while sampling: ${Math.min(...others)} to ` +
      `${Math.max(...others)} (idle samples)` +
      (deploy !== null
        ? `, ${Math.min(...otherDuringDeploy)} to ${Math.max(...otherDuringDeploy)} (deploy)`
        : "") +
      ".",
    `Machine: ${machine.nproc} cores, ${machine.memory}; ${machine.distribution}; ${machine.os}; ` +
      `WebKitGTK ${machine.webkitgtk}; ${machine.started} to ${machine.finished}; ` +
      `load average at the end ${machine.loadAverage}.`,
  );
  await writeFile(
    join(OUT, "results.json"),
    JSON.stringify({ ...results, deploySummary }, null, 2) + "\n",
  );
  await writeFile(join(OUT, "results.md"), lines.join("\n") + "\n");
  console.log(lines.join("\n"));
});
