/**
 * A small W3C WebDriver client over `fetch`: the few commands the journeys need, each with a
 * time limit, and errors that name the command and carry the remote end's error code.
 * Spec: https://www.w3.org/TR/webdriver2/
 */

/** The key the spec uses for element references in JSON. */
export const ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf";

/** An element reference as the remote end sends it. */
export interface ElementRef {
  [ELEMENT_KEY]: string;
}

/** Whether a JSON value is an element reference. */
export function isElementRef(value: unknown): value is ElementRef {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Record<string, unknown>)[ELEMENT_KEY] === "string"
  );
}

/** A command the remote end refused, or that did not answer in time. */
export class WebDriverError extends Error {
  constructor(
    /** `METHOD /path` of the command. */
    readonly command: string,
    /** The spec's error code (`no such element`, `session not created`...) or `timeout`/`network`. */
    readonly code: string,
    message: string,
  ) {
    super(`WebDriver ${command} failed (${code}): ${message}`);
    this.name = "WebDriverError";
  }
}

/** Default time limit of one command. */
const COMMAND_TIMEOUT_MS = 30_000;

/** Sends one command; resolves with the reply's `value`. */
export async function command(
  base: string,
  method: "GET" | "POST" | "DELETE",
  path: string,
  body?: unknown,
  timeoutMs = COMMAND_TIMEOUT_MS,
): Promise<unknown> {
  const name = `${method} ${path}`;
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json; charset=utf-8" },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const timedOut = e instanceof Error && e.name === "TimeoutError";
    throw new WebDriverError(
      name,
      timedOut ? "timeout" : "network",
      timedOut
        ? `no answer from ${base} within ${timeoutMs / 1000} s`
        : `cannot reach ${base}: ${causeOf(e)}`,
    );
  }
  const raw = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new WebDriverError(
      name,
      `http ${response.status}`,
      `the answer is not JSON: ${raw.slice(0, 300)}`,
    );
  }
  const value = (json as { value?: unknown } | null)?.value ?? null;
  if (!response.ok) {
    const v = (value ?? {}) as { error?: unknown; message?: unknown };
    throw new WebDriverError(
      name,
      typeof v.error === "string" ? v.error : `http ${response.status}`,
      typeof v.message === "string" ? v.message : raw.slice(0, 300),
    );
  }
  return value;
}

function causeOf(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${e.message} (${cause.message})` : e.message;
  }
  return String(e);
}

/** A window's position and outer size in CSS pixels. */
export interface WindowRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A WebDriver session. */
export class Session {
  private constructor(
    readonly base: string,
    readonly id: string,
  ) {}

  /** Starts a session (for tauri-driver: launches the app). */
  static async create(
    base: string,
    capabilities: Record<string, unknown>,
    timeoutMs = 90_000,
  ): Promise<Session> {
    const value = (await command(
      base,
      "POST",
      "/session",
      { capabilities: { alwaysMatch: capabilities, firstMatch: [{}] } },
      timeoutMs,
    )) as { sessionId?: unknown } | null;
    if (typeof value?.sessionId !== "string") {
      throw new WebDriverError("POST /session", "invalid answer", JSON.stringify(value));
    }
    return new Session(base, value.sessionId);
  }

  private send(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<unknown> {
    return command(this.base, method, `/session/${this.id}${path}`, body);
  }

  /** Ends the session (for tauri-driver: closes the app). */
  async delete(): Promise<void> {
    await this.send("DELETE", "");
  }

  /** Runs a script body (`arguments` holds `args`) and answers its return value. */
  execute(script: string, args: unknown[] = []): Promise<unknown> {
    return this.send("POST", "/execute/sync", { script, args });
  }

  /** Runs an asynchronous script body: it ends by calling the last argument with its result. */
  executeAsync(script: string, args: unknown[] = []): Promise<unknown> {
    return this.send("POST", "/execute/async", { script, args });
  }

  /** The window's position and outer size. */
  async windowRect(): Promise<WindowRect> {
    return (await this.send("GET", "/window/rect")) as WindowRect;
  }

  /** Resizes (and moves) the window; answers the rect it got. */
  async setWindowRect(rect: Partial<WindowRect>): Promise<WindowRect> {
    return (await this.send("POST", "/window/rect", rect)) as WindowRect;
  }

  /** Navigates to a URL. */
  async navigate(url: string): Promise<void> {
    await this.send("POST", "/url", { url });
  }

  /** Reloads the current page. */
  async refresh(): Promise<void> {
    await this.send("POST", "/refresh", {});
  }

  /** Opens `url` in a new window, closes the current one and switches to the new one. */
  async replaceWindow(url: string): Promise<void> {
    const created = (await this.send("POST", "/window/new", { type: "tab" })) as {
      handle?: unknown;
    } | null;
    if (typeof created?.handle !== "string") {
      throw new WebDriverError("POST /window/new", "invalid answer", JSON.stringify(created));
    }
    await this.send("DELETE", "/window");
    await this.send("POST", "/window", { handle: created.handle });
    await this.navigate(url);
  }

  /** Clicks an element (the remote end scrolls it into view and checks it can be clicked). */
  async click(element: ElementRef): Promise<void> {
    await this.send("POST", `/element/${element[ELEMENT_KEY]}/click`, {});
  }

  /** Empties an editable element. */
  async clear(element: ElementRef): Promise<void> {
    await this.send("POST", `/element/${element[ELEMENT_KEY]}/clear`, {});
  }

  /** Types into an element. */
  async sendKeys(element: ElementRef, text: string): Promise<void> {
    await this.send("POST", `/element/${element[ELEMENT_KEY]}/value`, { text });
  }

  /** A PNG of the window's viewport. */
  async screenshot(): Promise<Buffer> {
    const value = await this.send("GET", "/screenshot");
    if (typeof value !== "string") {
      throw new WebDriverError("GET /screenshot", "invalid answer", typeof value);
    }
    return Buffer.from(value, "base64");
  }
}
