import { createSecretKey, hkdfSync, type KeyObject } from "node:crypto";
import { FrameMac } from "./frame-mac.js";

/** One shared cluster secret as read from the key file. */
export interface ClusterKey {
  /** 1..255: travels in every frame's header so receivers know which key signed it. */
  id: number;
  /** At least 32 bytes of random data, identical on every node. */
  secret: Buffer;
}

/** The keys derived from one cluster secret: never used for anything but this wire version. */
export interface WireKeys {
  readonly mac: KeyObject;
  /** HMAC-SHA256 under `mac`, prepared once: what signs and checks every frame. */
  readonly frameMac: FrameMac;
  readonly cipher: KeyObject;
}

export const MIN_SECRET_BYTES = 32;
export const MAX_KEY_ID = 255;
const DERIVED_KEY_BYTES = 32;
// Distinct HKDF labels make the MAC and encryption keys independent even though they come
// from one secret: a weakness in one use can never leak the other key.
const HKDF_SALT = Buffer.from("vigil wire v1", "utf8");
const HKDF_INFO_MAC = Buffer.from("vigil v1 hmac-sha256 frame authentication", "utf8");
const HKDF_INFO_CIPHER = Buffer.from("vigil v1 aes-256-gcm payload encryption", "utf8");

export class KeyringError extends Error {
  override readonly name = "KeyringError";
}

/**
 * The cluster keys this node accepts, with the derived keys precomputed so that the per-frame
 * path only looks them up. Several keys are held at once during a rotation: a node accepts
 * frames signed with any of them and signs with one (the newest unless pinned).
 */
export class Keyring {
  readonly signKeyId: number;
  /** Ids in ascending order. */
  readonly ids: readonly number[];
  // Indexed by key id: a frame's key id byte goes straight to its keys without hashing.
  private readonly byId: Array<WireKeys | undefined> = new Array(MAX_KEY_ID + 1).fill(undefined);

  constructor(keys: readonly ClusterKey[], signKeyId?: number) {
    if (keys.length === 0)
      throw new KeyringError("no cluster keys given; create one with: vigil keygen");
    for (const key of keys) {
      if (!Number.isInteger(key.id) || key.id < 1 || key.id > MAX_KEY_ID)
        throw new KeyringError(`key id ${key.id} is out of range; key ids go from 1 to 255`);
      if (this.byId[key.id] !== undefined)
        throw new KeyringError(`key id ${key.id} appears twice; each key needs its own id`);
      if (key.secret.length < MIN_SECRET_BYTES)
        throw new KeyringError(
          `key ${key.id} has a ${key.secret.length}-byte secret; at least ${MIN_SECRET_BYTES} bytes are required (generate one with: vigil keygen)`,
        );
      const macKey = deriveKeyBytes(key.secret, HKDF_INFO_MAC);
      this.byId[key.id] = {
        mac: createSecretKey(macKey),
        frameMac: new FrameMac(macKey),
        cipher: createSecretKey(deriveKeyBytes(key.secret, HKDF_INFO_CIPHER)),
      };
    }
    this.ids = keys.map((key) => key.id).sort((a, b) => a - b);
    if (signKeyId === undefined) {
      this.signKeyId = this.ids[this.ids.length - 1]!;
    } else {
      if (this.byId[signKeyId] === undefined)
        throw new KeyringError(
          `sign key id ${signKeyId} is not in the key file (it holds ${this.ids.join(", ")}); add that key or change keys.sign_key_id`,
        );
      this.signKeyId = signKeyId;
    }
  }

  has(id: number): boolean {
    return this.keysFor(id) !== undefined;
  }

  /** The derived keys for a key id, or undefined when this ring does not hold it. */
  keysFor(id: number): WireKeys | undefined {
    return Number.isInteger(id) && id >= 0 && id <= MAX_KEY_ID ? this.byId[id] : undefined;
  }

  /** The keys new frames are signed (and encrypted) with. */
  signingKeys(): WireKeys {
    return this.byId[this.signKeyId]!;
  }
}

function deriveKeyBytes(secret: Buffer, info: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", secret, HKDF_SALT, info, DERIVED_KEY_BYTES));
}
