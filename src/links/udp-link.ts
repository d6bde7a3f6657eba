/**
 * The socket code shared by the three UDP link kinds. They differ only in where the socket binds,
 * which options it needs once bound, and where a frame goes; each kind describes that in a
 * `UdpPlan` and this class does the rest.
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { lookup as dnsLookup, type LookupOneOptions } from "node:dns";
import { isIPv4 } from "node:net";
import { explainSystemError, LinkError } from "./errors.js";
import { LinkLifecycle } from "./lifecycle.js";
import type { Link, LinkCounters, LinkKind, ReceivedFrame } from "./link.js";

export interface UdpEndpoint {
  address: string;
  port: number;
  /** The one peer behind this endpoint (ucast); absent for a group or broadcast address. */
  peerId?: number;
}

export interface UdpPlan {
  bind: UdpEndpoint;
  /** Needed whenever several sockets share the port: mcast/bcast agents on one host. */
  reuseAddr: boolean;
  /** Every datagram of a broadcast() goes to each of these. */
  destinations: readonly UdpEndpoint[];
  /** Socket options that need a bound socket (group membership, broadcast flag). May throw. */
  configure?: (socket: Socket) => void;
  /** Says what `bind` is in error messages, e.g. "(broadcast address of eth1)". */
  bindNote?: string;
}

/** A destination with its send callback, made once at open rather than for every datagram. */
interface SendTarget extends UdpEndpoint {
  readonly afterSend: (error: Error | null) => void;
}

export class UdpLink implements Link {
  private socket: Socket | undefined;
  private destinations: readonly SendTarget[] = [];
  /** Per peer, worked out once at open: sendTo runs for every coordination message. */
  private readonly destinationsByPeer = new Map<number, readonly SendTarget[]>();
  private onError: (error: Error) => void = () => {};
  private opening: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly tally: LinkCounters = {
    framesSent: 0,
    framesReceived: 0,
    sendErrors: 0,
    framingErrors: 0,
  };

  /**
   * `plan` runs at open(), so that a missing interface is an open() rejection naming the link;
   * it throws a LinkError when the host does not match the configuration.
   */
  private readonly lifecycle: LinkLifecycle;

  constructor(
    readonly name: string,
    readonly kind: LinkKind,
    private readonly plan: () => UdpPlan,
  ) {
    this.lifecycle = new LinkLifecycle(name);
  }

  open(onFrame: (frame: ReceivedFrame) => void, onError: (error: Error) => void): Promise<void> {
    // Only the first open() takes effect; later ones are refused by the lifecycle.
    if (this.lifecycle.phase !== "new")
      return this.lifecycle.open(() => this.bindAndListen(onFrame));
    this.onError = onError;
    this.opening = this.lifecycle.open(() => this.bindAndListen(onFrame));
    return this.opening;
  }

  private async bindAndListen(onFrame: (frame: ReceivedFrame) => void): Promise<void> {
    const plan = this.plan();
    const destinations = plan.destinations.map((to) => this.sendTarget(to));
    this.destinations = destinations;
    for (const peerId of new Set(destinations.flatMap((to) => to.peerId ?? []))) {
      this.destinationsByPeer.set(
        peerId,
        destinations.filter((to) => to.peerId === undefined || to.peerId === peerId),
      );
    }
    const socket = createSocket({
      type: "udp4",
      reuseAddr: plan.reuseAddr,
      lookup: literalLookup(new Set(destinations.map((to) => to.address).filter(isIPv4))),
    });
    try {
      await bindSocket(socket, plan.bind);
    } catch (error) {
      closeQuietly(socket);
      const where = `${plan.bind.address}:${plan.bind.port}${plan.bindNote ? ` ${plan.bindNote}` : ""}`;
      throw new LinkError(
        this.name,
        "open_failed",
        `cannot listen on ${where}: ${explainSystemError(error)}`,
        { cause: error },
      );
    }
    try {
      plan.configure?.(socket);
    } catch (error) {
      closeQuietly(socket);
      throw error instanceof LinkError
        ? error
        : new LinkError(this.name, "open_failed", explainSystemError(error), { cause: error });
    }
    socket.on("message", (bytes: Buffer, remote: RemoteInfo) => {
      this.tally.framesReceived++;
      onFrame({ bytes, from: `${remote.address}:${remote.port}` });
    });
    socket.on("error", (error) => {
      this.onError(
        new LinkError(this.name, "io_failed", explainSystemError(error), { cause: error }),
      );
    });
    this.socket = socket;
  }

  broadcast(frame: Buffer): void {
    this.sendToEndpoints(frame, this.destinations);
  }

  sendTo(peerId: number, frame: Buffer): void {
    // Group and broadcast links have no per-peer endpoints: everyone gets the frame.
    const destinations =
      this.destinationsByPeer.size === 0
        ? this.destinations
        : (this.destinationsByPeer.get(peerId) ?? []);
    this.sendToEndpoints(frame, destinations);
  }

  private sendTarget(to: UdpEndpoint): SendTarget {
    return {
      ...to,
      afterSend: (error) => {
        if (error)
          this.sendFailed(
            `send to ${to.address}:${to.port} failed: ${explainSystemError(error)}`,
            error,
          );
        else this.tally.framesSent++;
      },
    };
  }

  private sendToEndpoints(frame: Buffer, destinations: readonly SendTarget[]): void {
    const socket = this.socket;
    if (this.lifecycle.phase !== "open" || socket === undefined) {
      this.sendFailed(`cannot send: link is ${this.lifecycle.phase}`);
      return;
    }
    for (const to of destinations) {
      try {
        socket.send(frame, to.port, to.address, to.afterSend);
      } catch (error) {
        this.sendFailed(
          `send to ${to.address}:${to.port} failed: ${explainSystemError(error)}`,
          error,
        );
      }
    }
  }

  counters(): LinkCounters {
    return { ...this.tally };
  }

  close(): Promise<void> {
    this.closing ??= this.closeSocket();
    return this.closing;
  }

  private async closeSocket(): Promise<void> {
    // A close() during open() waits for the bind to settle, so no socket is left behind.
    await this.opening?.catch(() => {});
    this.lifecycle.phase = "closed";
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined) return;
    await new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        // Never bound (open failed midway) or already closed: nothing left to release.
        resolve();
      }
    });
  }

  private sendFailed(detail: string, cause?: unknown): void {
    this.tally.sendErrors++;
    this.onError(new LinkError(this.name, "send_failed", detail, { cause }));
  }
}

/**
 * dgram resolves the destination before every send, and its default (dns.lookup) answers even
 * an IP literal on the next tick: a regex, a closure and a tick per datagram, about 4% of an idle
 * agent's CPU (profiled). Destinations are IPv4 literals from the configuration, so they are
 * answered at once; anything else still goes to the resolver.
 */
function literalLookup(
  literals: ReadonlySet<string>,
): (
  hostname: string,
  options: LookupOneOptions,
  callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void,
) => void {
  return (hostname, options, callback) => {
    if (literals.has(hostname)) callback(null, hostname, 4);
    else dnsLookup(hostname, options, callback);
  };
}

function bindSocket(socket: Socket, at: UdpEndpoint): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      socket.off("listening", onListening);
      reject(error);
    };
    const onListening = () => {
      socket.off("error", onError);
      resolve();
    };
    socket.once("error", onError);
    socket.once("listening", onListening);
    socket.bind({ address: at.address, port: at.port, exclusive: true });
  });
}

function closeQuietly(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // Not running: nothing to close.
  }
}
