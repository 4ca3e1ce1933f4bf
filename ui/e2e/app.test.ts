/**
 * The journeys against the built desktop app, through tauri-driver and WebKitWebDriver: every
 * journey starts the app (a WebDriver session) and closes it at the end; the resume journey
 * closes it mid-deploy and starts it again. Screenshots go to target/e2e-screenshots/app.
 *
 * Run it with `scripts/e2e`, which starts Xvfb and tauri-driver and gives the app a throwaway
 * data folder and a fast demo. Environment:
 * - `TAURI_DRIVER_URL`: the driver (default http://127.0.0.1:4444);
 * - `LANDFALL_APP`: the app binary (default target/debug/landfall-desktop);
 * - `LANDFALL_E2E_WEBKIT_URL`: instead of the app, open this URL (the UI with its mock backend)
 *   in WebKitGTK's MiniBrowser: the same engine and driver, no app build needed.
 */
import { access, constants } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, test } from "vitest";
import { JOURNEYS, type JourneyOptions } from "./journeys";
import { ROOT, freshScreenshotDir } from "./paths";
import { command } from "./webdriver";
import {
  WebDriverDriver,
  tauriCapabilities,
  type WebDriverDriverOptions,
} from "./webdriver-driver";

const SERVER = process.env.TAURI_DRIVER_URL ?? "http://127.0.0.1:4444";
const APP = process.env.LANDFALL_APP ?? join(ROOT, "target", "debug", "landfall-desktop");
const WEBKIT_URL = process.env.LANDFALL_E2E_WEBKIT_URL;
const MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

/** At LANDFALL_DEMO_SPEED=60 a deployment takes 20 to 60 s; leave room for a busy machine. */
const OPTIONS: JourneyOptions = { deployTimeoutMs: 180_000 };

let driver: WebDriverDriver | undefined;

beforeAll(async () => {
  try {
    await command(SERVER, "GET", "/status", undefined, 5_000);
  } catch (e) {
    throw new Error(
      `No WebDriver server at ${SERVER} (${String(e)}). Run the app suite with scripts/e2e, ` +
        "which starts Xvfb and tauri-driver.",
      { cause: e },
    );
  }
  let target: Pick<WebDriverDriverOptions, "capabilities" | "url" | "restart">;
  if (WEBKIT_URL !== undefined) {
    target = {
      capabilities: { "webkitgtk:browserOptions": { binary: MINIBROWSER, args: ["--automation"] } },
      url: WEBKIT_URL,
      restart: "window",
    };
  } else {
    try {
      await access(APP, constants.X_OK);
    } catch {
      throw new Error(
        `The app ${APP} is missing or not executable: build it with cargo build -p landfall-desktop.`,
      );
    }
    target = { capabilities: tauriCapabilities(APP), restart: "session" };
  }
  driver = new WebDriverDriver({
    server: SERVER,
    screenshotDir: await freshScreenshotDir("app"),
    ...target,
  });
});

afterAll(async () => {
  await driver?.close();
});

describe(WEBKIT_URL === undefined ? "desktop app" : "WebKitGTK (mock backend)", () => {
  for (const journey of JOURNEYS) {
    test(journey.name, async () => {
      if (driver === undefined) {
        throw new Error("The WebDriver driver did not start (see the beforeAll error).");
      }
      try {
        await journey.run(driver, OPTIONS);
      } catch (e) {
        await driver.screenshot(`failed ${journey.name}`).catch(() => undefined);
        throw e;
      } finally {
        await driver.close().catch(() => undefined);
      }
    });
  }
});
