import { mount } from "svelte";
import App from "./App.svelte";
import type { Backend } from "$lib/backend";
import { MockBackend } from "$lib/mock-backend";
import { TauriBackend, insideTauri } from "$lib/tauri-backend";
import { Wizard } from "$lib/wizard.svelte";
import "./app.css";

// Inside the desktop shell every call is a Tauri command; in a plain browser (UI work, the
// browser tests) the mock backend simulates Azure.
const backend: Backend = insideTauri() ? new TauriBackend() : new MockBackend();
const wizard = new Wizard(backend);
const target = document.getElementById("app");
if (target !== null) {
  mount(App, { target, props: { wizard } });
}
void wizard.reattach();
