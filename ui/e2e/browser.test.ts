/**
 * The journeys in headless Chromium against the built UI with its mock backend (a plain
 * browser has no Tauri, so the UI picks the mock). Builds the UI into target/e2e-ui, serves it
 * with `vite preview`, and writes screenshots to target/e2e-screenshots/browser.
 * Run: `npm run test:browser`.
 */
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { build, preview, type PreviewServer } from "vite";
import { afterAll, beforeAll, describe, test } from "vitest";
import { JOURNEYS, type JourneyOptions } from "./journeys";
import { BROWSER_BUILD_DIR, UI_DIR, freshScreenshotDir } from "./paths";
import { PlaywrightDriver, launchChromium } from "./playwright-driver";

/**
 * How much faster than Azure the mock deploys: the `?speed` hook of src/lib/mock-backend.ts.
 * As the app's runs (LANDFALL_DEMO_SPEED=60): a whole install takes about 15 s.
 */
const DEMO_SPEED = 60;
const OPTIONS: JourneyOptions = { deployTimeoutMs: 120_000 };

let server: PreviewServer | undefined;
let browser: Browser | undefined;
let driver: PlaywrightDriver | undefined;

beforeAll(async () => {
  const configFile = join(UI_DIR, "vite.config.ts");
  await build({
    configFile,
    root: UI_DIR,
    logLevel: "warn",
    build: { outDir: BROWSER_BUILD_DIR, emptyOutDir: true },
  });
  server = await preview({
    configFile,
    root: UI_DIR,
    logLevel: "warn",
    build: { outDir: BROWSER_BUILD_DIR },
    preview: { host: "127.0.0.1", port: 4173, strictPort: false, open: false },
  });
  const url = server.resolvedUrls?.local[0];
  if (url === undefined) {
    throw new Error("vite preview started but reports no local URL");
  }
  browser = await launchChromium();
  driver = new PlaywrightDriver(browser, {
    url: `${url}?speed=${DEMO_SPEED}`,
    screenshotDir: await freshScreenshotDir("browser"),
  });
});

afterAll(async () => {
  await driver?.close();
  await browser?.close();
  await server?.close();
});

describe("browser (mock backend)", () => {
  for (const journey of JOURNEYS) {
    test(journey.name, async () => {
      if (driver === undefined) {
        throw new Error("The browser did not start (see the beforeAll error).");
      }
      try {
        await journey.run(driver, OPTIONS);
      } catch (e) {
        await driver.screenshot(`failed ${journey.name}`).catch(() => undefined);
        throw e;
      } finally {
        await driver.close();
      }
    });
  }
});
