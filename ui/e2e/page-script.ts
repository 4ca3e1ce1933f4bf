/**
 * A script that runs inside the page (any WebDriver, or Playwright for diagnostics): finds
 * controls by role and accessible name or by label, and describes what the page shows.
 *
 * The accessible name is a simplified version of the W3C accname rules, enough for this UI:
 * `aria-labelledby`, `aria-label`, `<label>` for form controls, else the element's own text
 * without `aria-hidden` parts (visually hidden "sr-only" text counts, as for a screen reader).
 *
 * It is plain JavaScript in a string, not a TypeScript function: the test runner transpiles
 * functions and may add helpers that do not exist in the page.
 *
 * Call it as `(PAGE_SCRIPT)(op, arg1, arg2)`. Texts are `{kind: "text", value}` (exact match of
 * the collapsed name) or `{kind: "re", source, flags}`.
 *
 * Controls and text are looked for inside the `main` landmark (the page when there is none):
 * the screens live there, and the stepper beside it repeats step names ("Sign in", "Deploy").
 *
 * - `find(role, text)`: `{found: Element, enabled}` when exactly one visible control matches,
 *   `{found: null, count, controls}` otherwise (`controls` lists that role's names, for errors).
 * - `findLabelled(text)`: the same for form controls by label.
 * - `text()`: the text of the landmark as it is rendered.
 * - `describe()`: the whole page's text and its controls, one line each, for failure messages.
 */
export const PAGE_SCRIPT = String.raw`function (op, a, b) {
  const collapse = (s) => String(s || "").replace(/\s+/g, " ").trim();
  const test = (t, v) =>
    t.kind === "re" ? new RegExp(t.source, t.flags).test(v) : v === collapse(t.value);
  const visible = (el) => el.getClientRects().length > 0;
  const textOf = (node) => {
    if (node.nodeType === 3) return node.textContent;
    if (node.nodeType !== 1) return "";
    const el = node;
    if (el.getAttribute("aria-hidden") === "true") return "";
    if (["SCRIPT", "STYLE", "INPUT", "SELECT", "TEXTAREA"].includes(el.tagName)) return "";
    const display = getComputedStyle(el).display;
    if (display === "none") return "";
    const inner = Array.from(el.childNodes).map(textOf).join("");
    return display === "inline" ? inner : " " + inner + " ";
  };
  const byIds = (ids) =>
    ids.split(/\s+/).map((id) => document.getElementById(id)).filter(Boolean).map(textOf).join(" ");
  const isField = (el) => ["INPUT", "SELECT", "TEXTAREA"].includes(el.tagName);
  const nameOf = (el) => {
    const labelledBy = el.getAttribute("aria-labelledby");
    if (labelledBy) return collapse(byIds(labelledBy));
    const label = el.getAttribute("aria-label");
    if (label) return collapse(label);
    if (isField(el)) {
      const labels = Array.from(el.labels || []);
      if (labels.length > 0) return collapse(labels.map(textOf).join(" "));
      return collapse(el.getAttribute("title") || el.getAttribute("placeholder") || "");
    }
    return collapse(textOf(el)) || collapse(el.getAttribute("title") || "");
  };
  const roleOf = (el) => {
    const explicit = el.getAttribute("role");
    if (explicit) return explicit.split(/\s+/)[0];
    const tag = el.tagName;
    if (tag === "BUTTON") return "button";
    if (tag === "A" && el.hasAttribute("href")) return "link";
    if (/^H[1-6]$/.test(tag)) return "heading";
    if (tag === "SELECT") return el.multiple || el.size > 1 ? "listbox" : "combobox";
    if (tag === "TEXTAREA") return "textbox";
    if (tag === "SUMMARY") return "button";
    if (tag === "INPUT") {
      const type = (el.getAttribute("type") || "text").toLowerCase();
      if (type === "checkbox") return "checkbox";
      if (type === "radio") return "radio";
      if (["button", "submit", "reset"].includes(type)) return "button";
      if (["text", "email", "search", "tel", "url", "number"].includes(type)) {
        return type === "number" ? "spinbutton" : "textbox";
      }
    }
    return null;
  };
  const enabled = (el) => !el.disabled && el.getAttribute("aria-disabled") !== "true";
  const line = (el) => {
    const state = [];
    if (!enabled(el)) state.push("disabled");
    if (el.checked === true || el.getAttribute("aria-checked") === "true") state.push("checked");
    return JSON.stringify(nameOf(el)) + (state.length ? " (" + state.join(", ") + ")" : "");
  };
  const scope = document.querySelector("main") || document.body || document.documentElement;
  const all = () => Array.from(scope.querySelectorAll("*")).filter(visible);
  const pick = (candidates, list) => {
    if (candidates.length === 1) return { found: candidates[0], enabled: enabled(candidates[0]) };
    return { found: null, count: candidates.length, controls: list.map(line) };
  };
  if (op === "find") {
    const ofRole = all().filter((el) => roleOf(el) === a);
    return pick(ofRole.filter((el) => test(b, nameOf(el))), ofRole);
  }
  if (op === "findLabelled") {
    const fields = Array.from(scope.querySelectorAll("input, select, textarea")).filter(
      (el) => el.type !== "hidden" && (visible(el) || Array.from(el.labels || []).some(visible)),
    );
    return pick(fields.filter((el) => test(a, nameOf(el))), fields);
  }
  if (op === "text") {
    return scope.innerText;
  }
  if (op === "describe") {
    const controls = Array.from(document.querySelectorAll("*"))
      .filter(visible)
      .filter((el) => ["button", "link", "checkbox", "radio", "textbox", "combobox", "spinbutton"]
        .includes(roleOf(el)))
      .map((el) => roleOf(el) + " " + line(el));
    return { text: document.body ? document.body.innerText : "", controls };
  }
  throw new Error("page script: unknown op " + op);
}`;

/** A {@link Text} in the form the page script takes. */
export type PageText =
  { kind: "text"; value: string } | { kind: "re"; source: string; flags: string };

/** Converts a string or RegExp for the page script. */
export function pageText(t: string | RegExp): PageText {
  return typeof t === "string"
    ? { kind: "text", value: t }
    : { kind: "re", source: t.source, flags: t.flags };
}

/** What `describe` answers. */
export interface PageDescription {
  text: string;
  controls: string[];
}

/** The page text and its controls, as failure messages show them. */
export function formatDescription(d: PageDescription): string {
  return `${d.text}\n-- controls --\n${d.controls.join("\n")}`;
}

/** What `find` and `findLabelled` answer (`found` is an element reference over WebDriver). */
export interface FindResult<E> {
  found: E | null;
  enabled?: boolean;
  count?: number;
  controls?: string[];
}
