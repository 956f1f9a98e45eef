/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven with slicing-by-8.
 *
 * The WAL chains it across records (each record's checksum continues from the previous one), so the
 * update form `crc32c(data, previous)` is the primitive; `crc32c(data)` starts a fresh checksum.
 */

const POLYNOMIAL = 0x82f63b78;

/** TABLES[k][b] is the CRC of byte b followed by k zero bytes (for slicing-by-8). */
const TABLES: Uint32Array[] = buildTables();

function buildTables(): Uint32Array[] {
  const tables: Uint32Array[] = [];
  const first = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    first[n] = c >>> 0;
  }
  tables.push(first);
  for (let t = 1; t < 8; t++) {
    const previous = tables[t - 1]!;
    const table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      const p = previous[n]!;
      table[n] = ((p >>> 8) ^ first[p & 0xff]!) >>> 0;
    }
    tables.push(table);
  }
  return tables;
}

/**
 * crc32c returns the CRC-32C of `data[start, end)`, continuing from `previous` (the checksum of the bytes
 * before; 0 starts a new checksum), as an unsigned 32-bit number.
 */
export function crc32c(data: Uint8Array, previous = 0, start = 0, end = data.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
  ];
  let crc = ~previous >>> 0;
  let i = start;
  // Slicing-by-8: fold 8 bytes per step with 8 lookups.
  while (end - i >= 8) {
    const lo = (crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    crc =
      t7[lo & 0xff]! ^
      t6[(lo >>> 8) & 0xff]! ^
      t5[(lo >>> 16) & 0xff]! ^
      t4[lo >>> 24]! ^
      t3[data[i + 4]!]! ^
      t2[data[i + 5]!]! ^
      t1[data[i + 6]!]! ^
      t0[data[i + 7]!]!;
    i += 8;
  }
  while (i < end) {
    crc = t0[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
    i++;
  }
  return ~crc >>> 0;
}
