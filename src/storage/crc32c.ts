/**
 * CRC-32C (Castagnoli), the checksum of iSCSI, ext4 metadata and the LevelDB/RocksDB logs.
 * Chosen over a truncated SHA-256 because it guards against accidental damage (torn writes, bit
 * rot), not against an adversary: it detects every burst error up to 32 bits, and a table-driven
 * version is an order of magnitude cheaper than SHA-256 on the per-append path. Node 20 has no
 * built-in CRC (zlib.crc32 arrived in Node 22, and it is the IEEE polynomial anyway).
 */

/** Reflected form of the Castagnoli polynomial 0x1EDC6F41. */
const CASTAGNOLI_REFLECTED = 0x82f63b78;

const TABLE = buildTable();

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 1 ? (crc >>> 1) ^ CASTAGNOLI_REFLECTED : crc >>> 1;
    }
    table[byte] = crc >>> 0;
  }
  return table;
}

/** CRC-32C of `bytes`; pass a previous result as `seed` to checksum data given in pieces. */
export function crc32c(bytes: Uint8Array, seed = 0): number {
  let crc = ~seed >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  }
  return ~crc >>> 0;
}
