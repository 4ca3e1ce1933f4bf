/**
 * What a journey needs from a UI driver: find controls the way a person (or a screen reader)
 * does, by role and accessible name or by label, and assert on the text the page shows. Two
 * drivers implement it: {@link PlaywrightDriver} (headless Chromium, the mock backend) and
 * {@link WebDriverDriver} (the built desktop app through tauri-driver).
 */

/** The roles journeys use. */
export type Role =
  | "button"
  | "checkbox"
  | "radio"
  | "link"
  | "heading"
  | "textbox"
  | "combobox"
  | "status"
  | "alert";

/** An accessible name or text: a string matches exactly (whitespace collapsed), a RegExp tests. */
export type Text = string | RegExp;

/** How long a wait may last, and what it is waiting for (named in the failure message). */
export interface WaitOptions {
  /** Milliseconds before the wait fails (default {@link DEFAULT_TIMEOUT_MS}). */
  timeoutMs?: number;
}

/** Default wait: screens change in well under a second; this leaves room for a slow machine. */
export const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * A UI under test. Controls and text are looked for inside the `main` landmark, where the
 * screens are: the stepper beside it repeats the step names as buttons.
 */
export interface Driver {
  /** "browser" or "app": names the screenshot folder and the test suite. */
  readonly kind: "browser" | "app";
  /** Opens the UI on its first screen, with no memory of earlier runs of this test. */
  open(): Promise<void>;
  /**
   * Leaves and comes back. `reload`: the window reloads its page (the app's process goes on).
   * `restart`: the app is closed and started again with the same data folder (the browser:
   * the tab is closed and the page opened in a new tab, with the same local storage).
   */
  reopen(how: "reload" | "restart"): Promise<void>;
  /** Closes the UI. */
  close(): Promise<void>;
  /** Clicks the enabled control with this role and accessible name (waits for it). */
  click(role: Role, name: Text, options?: WaitOptions): Promise<void>;
  /** Replaces the value of the field with this label. */
  fill(label: Text, value: string, options?: WaitOptions): Promise<void>;
  /** Ticks (or clears) the checkbox with this label. */
  check(label: Text, checked?: boolean, options?: WaitOptions): Promise<void>;
  /**
   * Waits until the screen shows one of the texts (a string as a substring, whitespace
   * collapsed); resolves with the index of the first found.
   * Fails with a message listing what the page shows instead.
   */
  waitForText(texts: Text | readonly Text[], options?: WaitOptions): Promise<number>;
  /**
   * Waits until the screen's text passes `test`; `what` names the condition in the failure
   * message.
   */
  waitUntil(what: string, test: (text: string) => boolean, options?: WaitOptions): Promise<void>;
  /** Waits until an element with this role and accessible name shows (enabled or not). */
  waitFor(role: Role, name: Text, options?: WaitOptions): Promise<void>;
  /** Whether an element with this role and name shows now (no waiting). */
  has(role: Role, name: Text): Promise<boolean>;
  /** The text the screen shows, as a person reads it. */
  text(): Promise<string>;
  /** Saves a screenshot as `NN-<name>.png` in this driver's folder; returns the file path. */
  screenshot(name: string): Promise<string>;
}

/** A Text as the failure messages show it. */
export function show(t: Text): string {
  return typeof t === "string" ? JSON.stringify(t) : String(t);
}

/** Whether a piece of text (whitespace already collapsed) matches. */
export function matches(t: Text, value: string): boolean {
  return typeof t === "string" ? value === t : t.test(value);
}

/** Whether page text contains the expected text (a string as a substring). */
export function contains(t: Text, page: string): boolean {
  return typeof t === "string" ? collapse(page).includes(collapse(t)) : t.test(page);
}

/** Collapses runs of whitespace the way accessible names are computed. */
export function collapse(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

/**
 * The error a wait throws: what was expected, for how long (or why it stopped early, such as
 * several elements matching), and what the page shows.
 */
export function waitFailure(what: string, timeoutMs: number, page: string, why?: string): Error {
  const shown = page.length > 4000 ? `${page.slice(0, 4000)}\n…` : page;
  const headline =
    why === undefined
      ? `Timed out after ${(timeoutMs / 1000).toFixed(1)} s waiting for ${what}.`
      : `Gave up waiting for ${what}: ${why}`;
  return new Error(`${headline}\nThe page shows:\n${indent(shown)}`);
}

function indent(s: string): string {
  return s
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => `    | ${l}`)
    .join("\n");
}

/** Polls `probe` until it answers non-null or the time is up (then throws `onTimeout()`). */
export async function poll<T>(
  probe: () => Promise<T | null>,
  timeoutMs: number,
  onTimeout: () => Promise<Error>,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) {
      return value;
    }
    if (Date.now() >= deadline) {
      throw await onTimeout();
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Screenshot file name: `NN-<name>.png` with a two-digit sequence number. */
export function screenshotName(seq: number, name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  return `${String(seq).padStart(2, "0")}-${slug}.png`;
}
