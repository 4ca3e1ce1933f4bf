import { mount } from "svelte";
import App from "./App.svelte";
import { MockBackend } from "$lib/mock-backend";
import { Wizard } from "$lib/wizard.svelte";
import "./app.css";

// TODO(issue 6): pick the Tauri backend when running inside the shell (src-tauri, next slice).
const wizard = new Wizard(new MockBackend());
const target = document.getElementById("app");
if (target !== null) {
  mount(App, { target, props: { wizard } });
}
void wizard.reattach();
