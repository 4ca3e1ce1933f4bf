/**
 * {@link Driver} over playwright-core and Debian's Chromium (no browser download), for the UI
 * served with the mock backend. Controls are found with Playwright's own role and label
 * locators; failures list what the page shows, with the in-page script of the WebDriver driver.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Locator,
  type Page,
} from "playwright-core";
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
import { PAGE_SCRIPT, formatDescription, type PageDescription } from "./page-script";

/** Chromium as packaged by Debian, with the flags that work headless in a container. */
export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Where and how to open the UI. */
export interface PlaywrightDriverOptions {
  /** The page to open (the served UI). */
  url: string;
  /** Folder for screenshots (created). */
  screenshotDir: string;
  /** Window size (default 1280 x 900). */
  viewport?: { width: number; height: number };
}

/** Starts headless Chromium (one per test file; each {@link PlaywrightDriver} gets a context). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** Drives one browser context: fresh storage on {@link open}, a page reload on {@link reopen}. */
export class PlaywrightDriver implements Driver {
  readonly kind = "browser";
  private context: BrowserContext | null = null;
  private current: Page | null = null;
  private shots = 0;
  /** Errors the page threw or logged, shown when a wait fails. */
  readonly pageErrors: string[] = [];

  constructor(
    private readonly browser: Browser,
    private readonly options: PlaywrightDriverOptions,
    /** Shared screenshot counter so several journeys number their files in order. */
    private readonly counter: { next: number } = { next: 1 },
  ) {}

  /** The `main` landmark, where the screens are (see {@link Driver}). */
  private get main(): Locator {
    return this.page.getByRole("main");
  }

  private get page(): Page {
    if (this.current === null) {
      throw new Error("The browser page is not open: call open() first.");
    }
    return this.current;
  }

  async open(): Promise<void> {
    await this.close();
    this.context = await this.browser.newContext({
      viewport: this.options.viewport ?? { width: 1280, height: 900 },
      reducedMotion: "reduce",
    });
    await this.newPage(this.context);
  }

  private async newPage(context: BrowserContext): Promise<void> {
    const page = await context.newPage();
    page.on("pageerror", (e) => this.pageErrors.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") {
        this.pageErrors.push(`console error: ${m.text()}`);
      }
    });
    this.current = page;
    await page.goto(this.options.url);
  }

  async reopen(how: "reload" | "restart"): Promise<void> {
    if (how === "reload") {
      await this.page.reload();
      return;
    }
    // Close first: the old tab's scripts would otherwise go on beside the new one.
    const context = this.context;
    await this.page.close();
    this.current = null;
    if (context === null) {
      throw new Error("The browser context is closed: call open() first.");
    }
    await this.newPage(context);
  }

  async close(): Promise<void> {
    const context = this.context;
    this.context = null;
    this.current = null;
    await context?.close();
  }

  async click(role: Role, name: Text, options?: WaitOptions): Promise<void> {
    const timeout = options?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const locator = this.main.getByRole(role, { name, exact: true });
    try {
      await locator.click({ timeout });
    } catch (e) {
      throw await this.failure(`an enabled ${role} named ${show(name)} to click`, timeout, e);
    }
  }

  async fill(label: Text, value: string, options?: WaitOptions): Promise<void> {
    const timeout = options?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const locator = this.field(label);
    try {
      const tag = await locator.evaluate((el) => el.tagName, undefined, { timeout });
      if (tag === "SELECT") {
        await locator.selectOption(value, { timeout });
      } else {
        await locator.fill(value, { timeout });
      }
    } catch (e) {
      throw await this.failure(`a field labelled ${show(label)} to fill`, timeout, e);
    }
  }

  async check(label: Text, checked = true, options?: WaitOptions): Promise<void> {
    const timeout = options?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    try {
      await this.main.getByRole("checkbox", { name: label, exact: true }).setChecked(checked, {
        timeout,
      });
    } catch (e) {
      throw await this.failure(`a checkbox labelled ${show(label)} to tick`, timeout, e);
    }
  }

  /**
   * A form field by its accessible name (its label, whitespace collapsed, as the WebDriver
   * driver matches it); a password field has no role, so a string label also goes by `<label>`.
   */
  private field(label: Text): Locator {
    const byRole = (["textbox", "combobox", "spinbutton"] as const)
      .map((role) => this.main.getByRole(role, { name: label, exact: true }))
      .reduce((a, b) => a.or(b));
    return typeof label === "string"
      ? byRole.or(this.main.getByLabel(label, { exact: true }))
      : byRole;
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
    );
  }

  async waitFor(role: Role, name: Text, options?: WaitOptions): Promise<void> {
    const timeout = options?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    try {
      await this.main.getByRole(role, { name, exact: true }).waitFor({ timeout });
    } catch (e) {
      throw await this.failure(`a ${role} named ${show(name)}`, timeout, e);
    }
  }

  async has(role: Role, name: Text): Promise<boolean> {
    return (await this.main.getByRole(role, { name, exact: true }).count()) > 0;
  }

  async text(): Promise<string> {
    return this.page.evaluate<string>(`(${PAGE_SCRIPT})("text")`);
  }

  async screenshot(name: string): Promise<string> {
    await mkdir(this.options.screenshotDir, { recursive: true });
    const path = join(this.options.screenshotDir, screenshotName(this.counter.next++, name));
    // From the top: a full-page shot of a scrolled page draws the sticky demo ribbon mid-page.
    await this.page.evaluate(() => {
      window.scrollTo(0, 0);
    });
    await this.page.screenshot({ path, fullPage: true });
    return path;
  }

  /** A wait failure naming what was expected, with the page's text, controls and errors. */
  private async failure(what: string, timeoutMs: number, cause?: unknown): Promise<Error> {
    let shown: string;
    try {
      const d = await this.page.evaluate<PageDescription>(`(${PAGE_SCRIPT})("describe")`);
      shown = formatDescription(d);
    } catch (e) {
      shown = `(could not read the page: ${String(e)})`;
    }
    if (this.pageErrors.length > 0) {
      shown += `\n-- page errors --\n${this.pageErrors.join("\n")}`;
    }
    // Playwright's own first line says why when it was not the time (e.g. several matches).
    const first = cause instanceof Error ? (cause.message.split("\n")[0] ?? "") : "";
    const timedOut = first === "" || /Timeout \d+ms exceeded/.test(first);
    return waitFailure(what, timeoutMs, shown, timedOut ? undefined : first);
  }
}
