import dgram from "node:dgram";

/**
 * A point-to-point "tunnel" between two transponders on loopback, made of two
 * relay sockets: what end A sends to `relayA` leaves `relayB` towards B, and
 * back. Cutting the link drops datagrams in one or both directions, which is
 * how the demo and the integration tests cut a tunnel without root.
 */
export interface UdpLinkEnd {
  /** The transponder's own address (its `addr`). */
  host: string;
  port: number;
  /** Where this end sends its probes (its `probe_addr`): the relay socket facing it. */
  relayHost: string;
  relayPort: number;
}

export interface UdpLink {
  /** Drop datagrams: "both", or only those travelling from end "a" or "b". */
  cut(direction?: "both" | "a" | "b"): void;
  restore(): void;
  readonly forwarded: number;
  readonly dropped: number;
  close(): Promise<void>;
}

export async function startUdpLink(a: UdpLinkEnd, b: UdpLinkEnd): Promise<UdpLink> {
  const socketA = dgram.createSocket("udp4");
  const socketB = dgram.createSocket("udp4");
  let dropFromA = false;
  let dropFromB = false;
  let forwarded = 0;
  let dropped = 0;
  const relay = (from: dgram.Socket, to: dgram.Socket, dest: { host: string; port: number }, drop: () => boolean) => {
    from.on("message", (msg) => {
      if (drop()) {
        dropped++;
        return;
      }
      forwarded++;
      to.send(msg, dest.port, dest.host, () => {}); // errors (far end gone) are a lossy link, as in life
    });
    from.on("error", () => {});
  };
  relay(socketA, socketB, b, () => dropFromA);
  relay(socketB, socketA, a, () => dropFromB);
  await Promise.all([bind(socketA, a.relayHost, a.relayPort), bind(socketB, b.relayHost, b.relayPort)]);
  return {
    cut(direction = "both") {
      dropFromA = direction !== "b";
      dropFromB = direction !== "a";
    },
    restore() {
      dropFromA = dropFromB = false;
    },
    get forwarded() {
      return forwarded;
    },
    get dropped() {
      return dropped;
    },
    async close() {
      await Promise.all([close(socketA), close(socketB)]);
    },
  };
}

function bind(socket: dgram.Socket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, host, () => {
      socket.off("error", reject);
      resolve();
    });
  });
}

function close(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve();
    }
  });
}
