/**
 * The end-to-end suites (not part of `npm test`): `npm run test:browser` runs the journeys in
 * headless Chromium with the mock backend, `npm run test:e2e` against the built desktop app
 * (through scripts/e2e, which starts tauri-driver). One journey at a time: they share a browser
 * or a WebDriver server and the screenshot numbering.
 */
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: decodeURIComponent(new URL("..", import.meta.url).pathname),
  test: {
    include: ["e2e/**/*.test.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 180_000,
    reporters: ["verbose"],
  },
});
