import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vitest/config";

const lib = decodeURIComponent(new URL("./src/lib", import.meta.url).pathname);
const templates = decodeURIComponent(new URL("../templates", import.meta.url).pathname);

export default defineConfig({
  plugins: [svelte()],
  resolve: { alias: { $lib: lib } },
  // Tauri serves the built files itself; a fixed port lets its dev config point at this server.
  server: { port: 5173, strictPort: true, fs: { allow: [".", templates] } },
  clearScreen: false,
  build: { target: "es2022", sourcemap: false },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
