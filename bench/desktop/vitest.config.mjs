// Runs desktop.bench.ts (scripts/bench-desktop calls it from a UI folder's node_modules).
// No imports: this file sits outside the UI package, where `vitest/config` does not resolve.
const here = decodeURIComponent(new URL(".", import.meta.url).pathname);

export default {
  root: here,
  // Vite's cache goes with the bench's other outputs, not beside this file.
  cacheDir: `${here}../../target/bench/desktop/vite-cache`,
  test: {
    include: ["desktop.bench.ts"],
    environment: "node",
    globals: true,
    fileParallelism: false,
    testTimeout: 3_600_000,
    hookTimeout: 60_000,
    reporters: ["verbose"],
  },
};
