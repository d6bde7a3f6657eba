/**
 * A link is one independent path between nodes: a UDP medium or a serial line. Links only move
 * opaque frames; authentication and parsing happen in `wire`, liveness in `membership`.
 */

export type LinkKind = "ucast" | "mcast" | "bcast" | "serial";

/** A frame as it arrived, with where it came from (for logs and counters only: never trusted). */
export interface ReceivedFrame {
  bytes: Buffer;
  /** "198.18.0.2:694" for UDP, the device path for serial. */
  from: string;
}

export interface LinkCounters {
  framesSent: number;
  framesReceived: number;
  sendErrors: number;
  /** Frames dropped while parsing the byte stream (serial line noise: bad escapes, oversized). */
  framingErrors: number;
}

export interface Link {
  readonly name: string;
  readonly kind: LinkKind;
  /** Binds sockets / opens the device. Rejects with a message naming the link and the cause. */
  open(onFrame: (frame: ReceivedFrame) => void, onError: (error: Error) => void): Promise<void>;
  /** Sends one frame to every peer on this link (ucast: one datagram per peer address). */
  broadcast(frame: Buffer): void;
  /**
   * Sends one frame toward one peer: ucast sends to that peer's address only; shared media
   * (mcast, bcast, serial) carry it to everyone, and receivers drop what is not addressed to them.
   */
  sendTo(peerId: number, frame: Buffer): void;
  counters(): LinkCounters;
  close(): Promise<void>;
}
