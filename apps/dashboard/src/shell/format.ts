/** formatBytes renders a size for people: 426 B, 1.5 KiB, 2.0 GiB. */
export function formatBytes(sizeBytes: bigint | number): string {
  let n = Number(sizeBytes);
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${n.toFixed(1)} ${units[u]}`;
}

/** formatId renders a member or lease id in hex, as etcdctl does. */
export function formatId(id: bigint): string {
  return id.toString(16);
}

/** formatClock renders a time of day (HH:MM:SS) for "last refreshed" labels. */
export function formatClock(date: Date): string {
  return date.toTimeString().slice(0, 8);
}
