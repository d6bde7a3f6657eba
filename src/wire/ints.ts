/**
 * Range checks for the integer fields of the wire format, shared by the encoders (which throw
 * RangeError on a caller's bug) and the decoders (which refuse the frame).
 */

export const U16_MAX = 0xffff;
export const U32_MAX = 0xffff_ffff;
const TWO_POW_32 = 0x1_0000_0000;
/** Highest high word of a u64 that still gives a safe integer (2^53 - 1 >> 32). */
const SAFE_HIGH_WORD_MAX = 0x1f_ffff;

export function isU8(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xff;
}

export function isU16(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= U16_MAX;
}

export function isU32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= U32_MAX;
}

/** u64 fields carry JavaScript numbers, so only the safe-integer part of the range is usable. */
export function isSafeU64(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

export function isNodeId(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= U16_MAX;
}

export function requireField(ok: boolean, what: string, value: number, expected: string): void {
  if (!ok) throw new RangeError(`${what} must be ${expected}, got ${value}`);
}

/** Writes a safe u64 as two u32 words: faster than BigInt and exact below 2^53. */
export function writeU64(buf: Buffer, value: number, offset: number): void {
  buf.writeUInt32BE(Math.floor(value / TWO_POW_32), offset);
  buf.writeUInt32BE(value >>> 0, offset + 4);
}

/** Reads a u64; returns -1 when it does not fit a safe integer (the caller refuses the frame). */
export function readSafeU64(buf: Buffer, offset: number): number {
  const high = buf.readUInt32BE(offset);
  if (high > SAFE_HIGH_WORD_MAX) return -1;
  return high * TWO_POW_32 + buf.readUInt32BE(offset + 4);
}
