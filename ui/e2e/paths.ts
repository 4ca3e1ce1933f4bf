/** Folders the end-to-end suites use, from the checkout's root. */
import { rm, mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

/** The checkout (the folder holding `ui/` and `target/`). */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The UI package. */
export const UI_DIR = join(ROOT, "ui");

/** The UI built for the browser suite (kept apart from ui/dist, which the app embeds). */
export const BROWSER_BUILD_DIR = join(ROOT, "target", "e2e-ui");

/** Screenshots of one suite: target/e2e-screenshots/{browser,app}. */
export function screenshotDir(kind: "browser" | "app"): string {
  return join(ROOT, "target", "e2e-screenshots", kind);
}

/** Empties a suite's screenshot folder, so every file in it comes from this run. */
export async function freshScreenshotDir(kind: "browser" | "app"): Promise<string> {
  const dir = screenshotDir(kind);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}
