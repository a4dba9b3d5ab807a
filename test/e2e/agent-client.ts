/**
 * Client side of agent.ts: one long-lived agent process per namespace,
 * JSON lines over its stdin/stdout.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface HttpAnswer {
  ok: boolean;
  status?: number;
  body?: string;
  error?: string;
}

export interface Agent {
  http(host: string, port: number, path: string, options?: { method?: string; timeoutMs?: number }): Promise<HttpAnswer>;
  udp(host: string, port: number, payloads: readonly Buffer[]): Promise<{ ok: boolean; sent?: number; error?: string }>;
  tcp(host: string, port: number, data: Buffer, timeoutMs?: number): Promise<{ ok: boolean; response?: string; error?: string }>;
  readonly pid: number | undefined;
  close(): void;
}

/** `argv` starts the agent (e.g. `ip netns exec <ns> bun test/e2e/agent.ts`). */
export async function startAgent(argv: readonly string[], cwd: string, readyTimeoutMs = 15_000): Promise<Agent> {
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { cwd, stdio: ["pipe", "pipe", "inherit"] });
  const pending = new Map<number, (answer: Record<string, unknown>) => void>();
  let nextId = 1;
  let exited = false;
  let ready: () => void = () => {};
  const readyPromise = new Promise<void>((resolve) => (ready = resolve));
  const lines = createInterface({ input: child.stdout! });
  lines.on("line", (line) => {
    let answer: Record<string, unknown>;
    try {
      answer = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (answer.id === 0) return ready();
    const resolve = pending.get(answer.id as number);
    pending.delete(answer.id as number);
    resolve?.(answer);
  });
  child.stdin!.on("error", () => {});
  child.on("exit", () => {
    exited = true;
    for (const resolve of pending.values()) resolve({ ok: false, error: "agent exited" });
    pending.clear();
  });

  // Answers are whatever the agent sent back; each op's shape is documented in agent.ts.
  const request = <T>(op: string, fields: Record<string, unknown>, timeoutMs: number): Promise<T> =>
    new Promise<Record<string, unknown>>((resolve) => {
      if (exited) return resolve({ ok: false, error: "agent exited" });
      const id = nextId++;
      // The agent bounds every operation itself; this is a backstop.
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve({ ok: false, error: "agent did not answer" });
      }, timeoutMs + 2_000);
      pending.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      child.stdin!.write(JSON.stringify({ id, op, ...fields }) + "\n");
    }) as Promise<T>;

  let readyTimer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => (readyTimer = setTimeout(() => resolve("timeout"), readyTimeoutMs)));
  const outcome = await Promise.race([readyPromise.then(() => "ready" as const), timedOut]);
  clearTimeout(readyTimer);
  if (outcome !== "ready") {
    child.kill("SIGKILL");
    throw new Error(`agent ${argv.join(" ")} did not start within ${readyTimeoutMs} ms`);
  }

  return {
    pid: child.pid,
    http: (host, port, path, options = {}) => {
      const timeoutMs = options.timeoutMs ?? 2_000;
      return request<HttpAnswer>("http", { host, port, path, method: options.method ?? "GET", timeoutMs }, timeoutMs);
    },
    udp: (host, port, payloads) =>
      request("udp", { host, port, payloads: payloads.map((p) => p.toString("base64")) }, 2_000),
    tcp: (host, port, data, timeoutMs = 1_000) =>
      request("tcp", { host, port, data: data.toString("base64"), timeoutMs }, timeoutMs),
    close() {
      if (exited) return;
      child.stdin!.end();
      // stdin closing ends it; a stuck agent is killed by pid.
      const timer = setTimeout(() => {
        if (!exited) child.kill("SIGKILL");
      }, 1_000);
      child.once("exit", () => clearTimeout(timer));
    },
  };
}
