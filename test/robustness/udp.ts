// UDP helpers for the robustness tests: sockets, stateless and slow echo
// responders, a tapped relay (a link we can cut, watch and forge on), and the
// kernel's per-socket drop counter. Loopback only.
import dgram from "node:dgram";
import { readFileSync } from "node:fs";
import { nowUnixNs } from "../../src/probe/gotime.ts";
import { startTransponder, type HostPort } from "../../src/probe/transponder.ts";
import { isRequest, makeReply, type Probe } from "../../src/probe/wire.ts";
import { waitFor } from "../../src/util/wait.ts";
import { peek } from "./probes.ts";

export function hp(host: string, port: number): HostPort {
  return { host, port, family: 4, text: `${host}:${port}` };
}

export async function bindUdp(host: string, port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket("udp4");
  socket.on("error", () => {});
  await new Promise<void>((resolveBind, reject) => {
    socket.once("error", reject);
    socket.bind(port, host, () => {
      socket.off("error", reject);
      resolveBind();
    });
  });
  return socket;
}

export function closeUdp(socket: dgram.Socket): Promise<void> {
  return new Promise((done) => {
    try {
      socket.close(() => done());
    } catch {
      done();
    }
  });
}

/** A stateless responder (as a Go or vpnham peer's transponder), answering every request. */
export async function startEcho(addr: HostPort, location = "robust/echo") {
  let answered = 0;
  const t = startTransponder({
    addr,
    probeAddr: hp("127.0.0.1", 9), // never used: the echo sends no probes
    probeLocation: location,
    events: { onReply() {}, onRequestAnswered: () => void answered++, onMalformed() {}, onSocketError() {} },
  });
  await waitFor(() => t.bound, { timeoutMs: 3000, what: `echo on ${addr.text} bound` });
  return { get answered() { return answered; }, close: () => t.close() };
}

/**
 * A responder that answers each request `delayMs` late (a long link), and
 * tells `onRequest` as each request arrives.
 */
export async function startSlowEcho(addr: HostPort, delayMs: number, onRequest?: (probe: Probe) => void) {
  const socket = await bindUdp(addr.host, addr.port);
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let answered = 0;
  socket.on("message", (msg, rinfo) => {
    const probe = peek(msg);
    if (!probe || !isRequest(probe)) return;
    onRequest?.(probe);
    const timer = setTimeout(() => {
      timers.delete(timer);
      socket.send(makeReply(msg, nowUnixNs(), "robust/slow-echo"), rinfo.port, rinfo.address, () => void answered++);
    }, delayMs);
    timers.add(timer);
  });
  return {
    get answered() {
      return answered;
    },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      await closeUdp(socket);
    },
  };
}

export type RelayVerdict = "pass" | "drop" | "hold";

/**
 * A point-to-point link with a tap: the daemon sends its probes to `near`
 * (its probe_addr); they leave `far` towards `peer`, whose replies come back
 * to `far` and leave `near` towards `daemon`. Taps see every datagram and may
 * drop it; `inject` sends anything to the daemon from `near`.
 */
export async function startRelay(opts: {
  near: HostPort;
  far: HostPort;
  daemon: HostPort;
  peer: HostPort;
  toPeer?: (msg: Buffer) => RelayVerdict | void;
  toDaemon?: (msg: Buffer) => RelayVerdict | void;
}) {
  const near = await bindUdp(opts.near.host, opts.near.port);
  const far = await bindUdp(opts.far.host, opts.far.port);
  let cut = false;
  near.on("message", (msg) => {
    if (cut || (opts.toPeer?.(msg) ?? "pass") !== "pass") return;
    far.send(msg, opts.peer.port, opts.peer.host, () => {});
  });
  far.on("message", (msg) => {
    if (cut || (opts.toDaemon?.(msg) ?? "pass") !== "pass") return;
    near.send(msg, opts.daemon.port, opts.daemon.host, () => {});
  });
  return {
    cut() {
      cut = true;
    },
    restore() {
      cut = false;
    },
    get isCut() {
      return cut;
    },
    inject(msg: Buffer): Promise<void> {
      return new Promise((done) => near.send(msg, opts.daemon.port, opts.daemon.host, () => done()));
    },
    close: () => Promise.all([closeUdp(near), closeUdp(far)]).then(() => {}),
  };
}

/**
 * Datagrams the kernel dropped at a UDP socket bound to host:port because its
 * receive buffer was full (the `drops` column of /proc/net/udp; 0 if not found).
 */
export function udpDrops(host: string, port: number): number {
  const ip = host.split(".").map((n) => Number(n).toString(16).padStart(2, "0").toUpperCase()).reverse().join("");
  const local = `${ip}:${port.toString(16).padStart(4, "0").toUpperCase()}`;
  try {
    for (const line of readFileSync("/proc/net/udp", "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[1] === local) return Number(cols[12] ?? 0);
    }
  } catch {
    /* not Linux */
  }
  return 0;
}

type Echo = Awaited<ReturnType<typeof startEcho>>;
type Relay = Awaited<ReturnType<typeof startRelay>>;

/** n tunnels t0..t(n-1), each through its own relay to its own echo, on 127.88.<net>.x. */
export async function tunnelsVia(net: number, n: number, base = 10) {
  const echoes: Echo[] = [];
  const relays: Relay[] = [];
  const specs = [];
  for (let i = 0; i < n; i++) {
    const x = base + 4 * i;
    echoes.push(await startEcho(hp(`127.88.${net}.${x + 3}`, 3003)));
    relays.push(
      await startRelay({
        near: hp(`127.88.${net}.${x + 1}`, 3003),
        far: hp(`127.88.${net}.${x + 2}`, 3003),
        daemon: hp(`127.88.${net}.${x}`, 3003),
        peer: hp(`127.88.${net}.${x + 3}`, 3003),
      }),
    );
    specs.push({ name: `t${i}`, role: i === 0 ? ("active" as const) : ("standby" as const), addr: `127.88.${net}.${x}:3003`, probeAddr: `127.88.${net}.${x + 1}:3003` });
  }
  return { echoes, relays, specs, close: () => Promise.all([...relays, ...echoes].map((x) => x.close())).then(() => {}) };
}
