/**
 * {@link Driver} over a W3C WebDriver remote end: tauri-driver (the built desktop app in its
 * WebKitGTK webview) or WebKitWebDriver itself. Controls are found by the in-page script
 * ({@link PAGE_SCRIPT}) and clicked or typed into with WebDriver's own element commands, so
 * the clicks are real input events and the remote end checks the element can be interacted with.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  DEFAULT_TIMEOUT_MS,
  contains,
  poll,
  screenshotName,
  show,
  waitFailure,
  type Driver,
  type Role,
  type Text,
  type WaitOptions,
} from "./driver";
import {
  PAGE_SCRIPT,
  formatDescription,
  pageText,
  type FindResult,
  type PageDescription,
} from "./page-script";
import { Session, WebDriverError, isElementRef, type ElementRef } from "./webdriver";

/** Where the remote end is and what it should start. */
export interface WebDriverDriverOptions {
  /** The remote end, e.g. `http://127.0.0.1:4444` (tauri-driver). */
  server: string;
  /** The session's capabilities (see {@link tauriCapabilities}). */
  capabilities: Record<string, unknown>;
  /** Folder for screenshots (created). */
  screenshotDir: string;
  /** A page to open after the session starts (a browser); the app shows its own page. */
  url?: string;
  /**
   * How {@link WebDriverDriver.reopen} restarts: `session` ends the session and starts a new
   * one (the app closes and starts again); `window` opens the page in a new window and closes
   * the old one (a browser, whose new session would start with empty storage).
   */
  restart: "session" | "window";
}

/** Capabilities that make tauri-driver launch the app at `application` (an absolute path). */
export function tauriCapabilities(application: string): Record<string, unknown> {
  return { "tauri:options": { application } };
}

/** Errors worth another try while waiting: the page changed under the command. */
const TRANSIENT = new Set([
  "stale element reference",
  "element click intercepted",
  "element not interactable",
  "no such element",
]);

/** Drives one WebDriver session at a time. */
export class WebDriverDriver implements Driver {
  readonly kind = "app";
  private current: Session | null = null;

  constructor(
    private readonly options: WebDriverDriverOptions,
    /** Shared screenshot counter so several journeys number their files in order. */
    private readonly counter: { next: number } = { next: 1 },
  ) {}

  private get session(): Session {
    if (this.current === null) {
      throw new Error("No WebDriver session: call open() first.");
    }
    return this.current;
  }

  async open(): Promise<void> {
    await this.close();
    this.current = await Session.create(this.options.server, this.options.capabilities);
    if (this.options.url !== undefined) {
      await this.current.navigate(this.options.url);
    }
  }

  async reopen(how: "reload" | "restart"): Promise<void> {
    if (how === "reload") {
      await this.session.refresh();
      return;
    }
    if (this.options.restart === "window") {
      await this.session.replaceWindow(this.options.url ?? "about:blank");
      return;
    }
    await this.close();
    this.current = await Session.create(this.options.server, this.options.capabilities);
    if (this.options.url !== undefined) {
      await this.current.navigate(this.options.url);
    }
  }

  async close(): Promise<void> {
    const session = this.current;
    this.current = null;
    await session?.delete();
  }

  private async run<T>(op: string, ...args: unknown[]): Promise<T> {
    return (await this.session.execute(`return (${PAGE_SCRIPT}).apply(null, arguments);`, [
      op,
      ...args,
    ])) as T;
  }

  /** Waits for exactly one match (enabled, when `enabled`), then acts on it. */
  private async withElement(
    what: string,
    find: () => Promise<FindResult<unknown>>,
    act: (el: ElementRef) => Promise<void>,
    timeoutMs: number,
    needEnabled = true,
  ): Promise<void> {
    let last: FindResult<unknown> | null = null;
    let lastError: WebDriverError | null = null;
    await poll(
      async () => {
        try {
          last = await find();
          if (!isElementRef(last.found) || (needEnabled && last.enabled === false)) {
            return null;
          }
          await act(last.found);
          return true;
        } catch (e) {
          if (e instanceof WebDriverError && TRANSIENT.has(e.code)) {
            lastError = e;
            return null;
          }
          throw e;
        }
      },
      timeoutMs,
      async () => {
        const found: FindResult<unknown> | null = last;
        const why =
          found === null
            ? ""
            : found.found !== null
              ? " (it stayed disabled)"
              : ` (${found.count ?? 0} matches)`;
        const error = await this.failure(`${what}${why}`, timeoutMs);
        if (lastError !== null) {
          error.message += `\n-- last WebDriver error --\n${(lastError as Error).message}`;
        }
        return error;
      },
      150,
    );
  }

  async click(role: Role, name: Text, options?: WaitOptions): Promise<void> {
    await this.withElement(
      `an enabled ${role} named ${show(name)} to click`,
      () => this.run("find", role, pageText(name)),
      (el) => this.session.click(el),
      options?.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    );
  }

  async fill(label: Text, value: string, options?: WaitOptions): Promise<void> {
    await this.withElement(
      `a field labelled ${show(label)} to fill`,
      () => this.run("findLabelled", pageText(label)),
      async (el) => {
        const tag = await this.session.execute("return arguments[0].tagName;", [el]);
        if (tag === "SELECT") {
          await this.session.execute(SELECT_OPTION, [el, value]);
          return;
        }
        await this.session.clear(el);
        if (value === "") {
          // Clearing fires `change` only; the UI listens to `input`.
          await this.session.execute(
            "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
            [el],
          );
        } else {
          await this.session.sendKeys(el, value);
        }
      },
      options?.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    );
  }

  async check(label: Text, checked = true, options?: WaitOptions): Promise<void> {
    await this.withElement(
      `a checkbox labelled ${show(label)} to tick`,
      () => this.run("findLabelled", pageText(label)),
      async (el) => {
        if ((await this.session.execute("return arguments[0].checked;", [el])) !== checked) {
          await this.session.click(el);
        }
      },
      options?.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    );
  }

  async waitUntil(
    what: string,
    test: (text: string) => boolean,
    options?: WaitOptions,
  ): Promise<void> {
    const timeout = options?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    await poll(
      async () => (test(await this.text()) ? true : null),
      timeout,
      () => this.failure(what, timeout),
    );
  }

  async waitForText(texts: Text | readonly Text[], options?: WaitOptions): Promise<number> {
    const list: readonly Text[] = Array.isArray(texts) ? texts : [texts as Text];
    const timeout = options?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return poll(
      async () => {
        const page = await this.text();
        const i = list.findIndex((t) => contains(t, page));
        return i < 0 ? null : i;
      },
      timeout,
      () => this.failure(`the text ${list.map(show).join(" or ")}`, timeout),
      150,
    );
  }

  async waitFor(role: Role, name: Text, options?: WaitOptions): Promise<void> {
    await this.withElement(
      `a ${role} named ${show(name)}`,
      () => this.run("find", role, pageText(name)),
      () => Promise.resolve(),
      options?.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      false,
    );
  }

  async has(role: Role, name: Text): Promise<boolean> {
    const r = await this.run<FindResult<unknown>>("find", role, pageText(name));
    return isElementRef(r.found);
  }

  async text(): Promise<string> {
    const value = await this.run("text");
    return typeof value === "string" ? value : "";
  }

  async screenshot(name: string): Promise<string> {
    await mkdir(this.options.screenshotDir, { recursive: true });
    const path = join(this.options.screenshotDir, screenshotName(this.counter.next++, name));
    await writeFile(path, await this.fullScreenshot());
    return path;
  }

  /**
   * The whole page from the top: WebDriver only photographs the viewport (an element's
   * screenshot is clipped to it too), so the window grows to the page's height for the shot
   * and gets its size back after.
   */
  private async fullScreenshot(): Promise<Buffer> {
    const session = this.session;
    const extra = Number(
      await session.executeAsync(`
        const done = arguments[arguments.length - 1];
        window.scrollTo(0, 0);
        const extra = document.documentElement.scrollHeight - window.innerHeight;
        requestAnimationFrame(() => requestAnimationFrame(() => done(extra)));
      `),
    );
    if (!(extra > 0)) {
      return session.screenshot();
    }
    const rect = await session.windowRect();
    await session.setWindowRect({ width: rect.width, height: rect.height + Math.min(extra, 4000) });
    try {
      // Two frames: the resized page is laid out and painted before the shot.
      await session.executeAsync(
        "const done = arguments[arguments.length - 1];" +
          "requestAnimationFrame(() => requestAnimationFrame(() => done(null)));",
      );
      return await session.screenshot();
    } finally {
      await session.setWindowRect({ width: rect.width, height: rect.height });
    }
  }

  private async failure(what: string, timeoutMs: number): Promise<Error> {
    let shown: string;
    try {
      shown = formatDescription(await this.run<PageDescription>("describe"));
    } catch (e) {
      shown = `(could not read the page: ${String(e)})`;
    }
    return waitFailure(what, timeoutMs, shown);
  }
}

/** Chooses a `<select>` option by value or by its text, as a person picking from the list. */
const SELECT_OPTION = `
  const [select, wanted] = arguments;
  const option = Array.from(select.options).find((o) => o.value === wanted || o.text.trim() === wanted);
  if (!option) throw new Error("no option " + wanted + " in " + (select.id || select.name));
  select.value = option.value;
  select.dispatchEvent(new Event("input", { bubbles: true }));
  select.dispatchEvent(new Event("change", { bubbles: true }));
`;
