/**
 * SLIP framing (RFC 1055) for serial links: a serial line is a byte stream, so each frame is
 * escaped and delimited by END on both sides. The leading END flushes whatever line noise came
 * before, so noise costs at most the frame it touches, never the next one.
 */
import { MAX_FRAME_BYTES } from "../wire/message.js";

export const SLIP_END = 0xc0;
export const SLIP_ESC = 0xdb;
export const SLIP_ESC_END = 0xdc;
export const SLIP_ESC_ESC = 0xdd;

/** END, the escaped frame, END. */
export function encodeSlipFrame(frame: Uint8Array): Buffer {
  let escapes = 0;
  for (const byte of frame) if (byte === SLIP_END || byte === SLIP_ESC) escapes++;
  const out = Buffer.allocUnsafe(frame.length + escapes + 2);
  let at = 0;
  out[at++] = SLIP_END;
  for (const byte of frame) {
    if (byte === SLIP_END) {
      out[at++] = SLIP_ESC;
      out[at++] = SLIP_ESC_END;
    } else if (byte === SLIP_ESC) {
      out[at++] = SLIP_ESC;
      out[at++] = SLIP_ESC_ESC;
    } else {
      out[at++] = byte;
    }
  }
  out[at++] = SLIP_END;
  return out;
}

export type SlipFramingError = "oversized" | "bad_escape";

/**
 * Incremental decoder: feed it chunks as they come off the line, in any split, and it returns the
 * complete frames. Empty frames (two ENDs in a row: every frame's leading END after the previous
 * frame's trailing one) are not frames. A frame longer than `maxFrameBytes` or with an escape
 * byte followed by anything but ESC_END/ESC_ESC is dropped whole and counted; the decoder
 * resynchronises at the next END. Memory stays bounded by `maxFrameBytes` whatever arrives.
 */
export class SlipDecoder {
  private readonly buffer: Buffer;
  private length = 0;
  private escaping = false;
  /** Set once the current frame is known bad; its bytes are skipped until the next END. */
  private discarding: SlipFramingError | null = null;
  private readonly errorCounts: Record<SlipFramingError, number> = {
    oversized: 0,
    bad_escape: 0,
  };

  constructor(private readonly maxFrameBytes: number = MAX_FRAME_BYTES) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 1) {
      throw new RangeError(
        `SlipDecoder: maxFrameBytes must be a positive integer, got ${maxFrameBytes}`,
      );
    }
    this.buffer = Buffer.allocUnsafe(maxFrameBytes);
  }

  /** Frames dropped so far, by reason. */
  get framingErrors(): Readonly<Record<SlipFramingError, number>> {
    return { ...this.errorCounts };
  }

  get framingErrorTotal(): number {
    return this.errorCounts.oversized + this.errorCounts.bad_escape;
  }

  /** Decodes one chunk; returns the frames it completed (copies, safe to keep). */
  push(chunk: Uint8Array): Buffer[] {
    const frames: Buffer[] = [];
    for (const byte of chunk) {
      if (byte === SLIP_END) {
        this.endFrame(frames);
        continue;
      }
      if (this.discarding !== null) continue;
      if (this.escaping) {
        this.escaping = false;
        if (byte === SLIP_ESC_END) this.append(SLIP_END);
        else if (byte === SLIP_ESC_ESC) this.append(SLIP_ESC);
        else this.discarding = "bad_escape";
      } else if (byte === SLIP_ESC) {
        this.escaping = true;
      } else {
        this.append(byte);
      }
    }
    return frames;
  }

  private append(byte: number): void {
    if (this.length === this.maxFrameBytes) {
      this.discarding = "oversized";
      return;
    }
    this.buffer[this.length++] = byte;
  }

  private endFrame(frames: Buffer[]): void {
    // An END right after ESC cuts the frame short: the escape never completed.
    const error = this.discarding ?? (this.escaping ? "bad_escape" : null);
    if (error !== null) this.errorCounts[error]++;
    else if (this.length > 0) frames.push(Buffer.from(this.buffer.subarray(0, this.length)));
    this.length = 0;
    this.escaping = false;
    this.discarding = null;
  }
}
